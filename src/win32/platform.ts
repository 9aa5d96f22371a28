/**
 * The Windows platform: Winsock tokens, HandoverServer's Winsock listener and accept path, PHP's
 * file mappings and the named-pipe channel. Loaded by platform.ts on the first call that needs it.
 */
import type * as net from 'node:net';
import { SocketHandoffError } from '../errors';
import type { Platform } from '../platform-api';
import { takeNamedLock } from './named-lock';
import { AcceptLoop } from './accept-loop';
import { findNodeSocket } from './node-socket-lookup';
import { phpMappings } from './php-mapping';
import { win32PipeTransport } from './pipe-transport';
import { createListeningSocket, localAddress } from './raw-listener';
import { adopt, closeSocket, duplicateSocket, importSocket, setBlocking } from './tokens';
import { systemText } from './winsock-error';

export const win32Platform: Platform = {
  name: 'win32',
  findNodeSocket,
  duplicateSocket,
  importSocket,
  setBlocking,
  fileMappings: () => phpMappings,
  errorText: systemText,
  closeSocket,
  adoptServer: (socket) => adopt(socket, 'server') as net.Server,
  adoptSocket: (socket, allowHalfOpen) => adopt(socket, 'socket', allowHalfOpen) as net.Socket,
  listenSocket: createListeningSocket,
  localAddress,
  acceptLoop: (socket, onAccept, onError) => AcceptLoop.start(socket, onAccept, onError),
  duplicateListener: (socket) => importSocket(duplicateSocket(socket, process.pid)).handle,
  takeNamedLock,
  inheritedSocket: () => {
    throw new SocketHandoffError('ERR_UNSUPPORTED_PLATFORM', 'systemd socket activation exists on Linux only; this is win32.');
  },
  notifySystemd: () => {
    throw new SocketHandoffError('ERR_UNSUPPORTED_PLATFORM', 'sd_notify exists on Linux only; this is win32.');
  },
  channelTransport: () => win32PipeTransport,
};
