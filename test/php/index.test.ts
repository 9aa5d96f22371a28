/**
 * socket-handoff/php off Windows: PHP's argument errors first (as PHP's TypeError), then
 * ERR_UNSUPPORTED_PLATFORM; socket_strerror and socket_last_error work everywhere. The Windows side
 * (file mappings, a C peer that behaves like PHP) runs in test/cross-process/interop.test.ts.
 */
import * as net from 'node:net';
import {
  socket_last_error,
  socket_strerror,
  socket_wsaprotocol_info_export,
  socket_wsaprotocol_info_import,
  socket_wsaprotocol_info_release,
} from '../../src/php';
import { describeOffWindows } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });
describe('socket-handoff/php', () => {
  it('is the package\'s "./php" entry', () => {
    const pkg = require('../../package.json');
    expect(pkg.exports['./php']).toEqual({ types: './dist/php/index.d.ts', default: './dist/php/index.js' });
  });

  it('throws for arguments of the wrong type, as PHP throws a TypeError', () => {
    expect(() => socket_wsaprotocol_info_import(42 as never)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => socket_wsaprotocol_info_release(undefined as never)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => socket_wsaprotocol_info_export(new net.Socket(), 'pid' as never)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => socket_wsaprotocol_info_export(new net.Socket(), 0)).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    expect(() => socket_strerror('2' as never)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
  });

  it('gives the system\'s text for an error number, and 0 before any failure', () => {
    expect(socket_last_error()).toBe(0);
    expect(socket_strerror(2)).toMatch(/no such file|cannot find|not found/i);
    expect(socket_strerror(987654)).toMatch(/987654|unknown/i);
  });

  describeOffWindows('without Winsock', 'a Windows build of Node has Winsock', () => {
    it('refuses with ERR_UNSUPPORTED_PLATFORM, after the argument checks', () => {
      expect(() => socket_wsaprotocol_info_import('php_wsa_for_0')).toThrow(coded('ERR_UNSUPPORTED_PLATFORM'));
      expect(() => socket_wsaprotocol_info_export(5n, 1234)).toThrow(coded('ERR_UNSUPPORTED_PLATFORM'));
      expect(socket_wsaprotocol_info_release('php_wsa_for_0')).toBe(false);
    });
  });
});
