/** The Options value .NET's SocketInformation needs next to a token. */
import * as net from 'node:net';
import { socketInformationOptions, SocketInformationOptions } from '../src/dotnet-options';
import type { HandoverServer } from '../src/handover-server';
import { SocketHandle } from '../src/socket-handle';

const handle = (listening: boolean) =>
  SocketHandle.create({ handle: 5n, family: 2, type: 1, protocol: 6, listening }, { close() {}, adoptServer: () => net.createServer(), adoptSocket: () => new net.Socket(), adoptHandoverServer: () => net.createServer() as HandoverServer });

describe('socketInformationOptions', () => {
  it('has .NET\'s flag values', () => {
    expect(SocketInformationOptions).toEqual({ NonBlocking: 1, Connected: 2, Listening: 4, UseOnlyOverlappedIO: 8 });
  });

  it('says Connected or Listening, and NonBlocking unless the export asked for blocking mode', () => {
    expect(socketInformationOptions(new net.Socket())).toBe(3);
    expect(socketInformationOptions(new net.Socket(), { blocking: true })).toBe(2);
    expect(socketInformationOptions(net.createServer())).toBe(5);
    expect(socketInformationOptions(net.createServer(), { blocking: true })).toBe(4);
    expect(socketInformationOptions(handle(true))).toBe(5);
    expect(socketInformationOptions(handle(false), { blocking: true })).toBe(2);
  });

  it('checks its arguments', () => {
    expect(() => socketInformationOptions({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => socketInformationOptions(new net.Socket(), { blocking: 1 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
