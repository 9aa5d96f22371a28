/**
 * The channel on Windows: a named pipe `\\.\pipe\<name>` carries the frames, and each socket
 * travels as a WSADuplicateSocketW token made for the receiver's pid.
 */
import { invalidArgValue } from '../errors';
import { exportHeld, importSocket } from '../token-api';
import { newestPipeClient } from '../win32/pipe-client';
import type { HandoffTransport } from './transport';

const PIPE_PREFIX = /^\\\\[.?]\\pipe\\/i;

export const win32PipeTransport: HandoffTransport = {
  endpoint(name) {
    if (PIPE_PREFIX.test(name)) return name;
    if (name.length > 200 || /[\\/:*?"<>|\0]/.test(name)) {
      throw invalidArgValue('name', 'a channel name of at most 200 characters without \\ / : * ? " < > |, or a full \\\\.\\pipe\\ path', name);
    }
    return `\\\\.\\pipe\\${name}`;
  },
  attach(target, peerPid) {
    const { token, release } = exportHeld(target, peerPid);
    return { fields: { token }, release };
  },
  detach(fields) {
    return importSocket(fields.token);
  },
  inspectPeer() {
    return newestPipeClient();
  },
};
