/**
 * The channel on Windows: a named pipe `\\.\pipe\<name>` carries the frames, and each socket
 * travels as a WSADuplicateSocketW token made for the receiver's pid, or in PHP's form (a named
 * mapping of WSAPROTOCOL_INFOA) when the receiver asks for it (channel-socket-forms.ts).
 */
import * as net from 'node:net';
import { debug } from '../debug';
import { invalidArgValue, SocketHandoffError } from '../errors';
import { controlledHandle, heldSocket } from '../node-socket';
import type { ChannelPeer, PlatformTransport } from '../platform-api';
import { findNodeSocket } from './node-socket-lookup';
import { newestPipeClient } from './pipe-client';
import { socketFields, socketFromFrame } from './channel-socket-forms';

const PIPE_PREFIX = /^\\\\[.?]\\pipe\\/i;

export const win32PipeTransport: PlatformTransport = {
  // A named pipe read by libuv cannot be drained synchronously from JS, so a sender could not see
  // at its deadline an ack already in the pipe: the two-phase protocol 1 only.
  deliverOnReceipt: false,

  endpoint(name) {
    if (PIPE_PREFIX.test(name)) return name;
    if (name.length > 200 || /[\\/:*?"<>|\0]/.test(name)) {
      throw invalidArgValue('name', 'a channel name of at most 200 characters without \\ / : * ? " < > |, or a full \\\\.\\pipe\\ path', name);
    }
    return `\\\\.\\pipe\\${name}`;
  },

  async listen(endpoint, onConnection, onError) {
    // Load the bindings now, not in the middle of the first client's 'connection' event.
    newestPipeClient();
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code === 'EADDRINUSE' ? 'ERR_CHANNEL_IN_USE' : 'ERR_CHANNEL_FAILED';
        reject(new SocketHandoffError(code, `cannot listen on ${endpoint}: ${err.message}`, { cause: err }));
      });
      server.listen(endpoint, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', onError);
    server.on('connection', (socket: net.Socket) => {
      // First, before anything else creates a handle: the OS's view of the newest client.
      let peer: ChannelPeer;
      try {
        peer = newestPipeClient();
      } catch (err) {
        debug('receiver %d: cannot inspect the new client: %s', process.pid, (err as Error).message);
        peer = {};
      }
      onConnection(socket, peer);
    });
    return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  },

  connect(endpoint) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(endpoint);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (cause) => reject(new SocketHandoffError('ERR_CHANNEL_UNAVAILABLE', `cannot reach a receiver on ${endpoint}: ${cause.message}`, { cause })));
    });
  },

  attachRaw(socket, peerPid, form) {
    return socketFields(socket, peerPid, form);
  },

  attach(target, peerPid, form) {
    const controlled = controlledHandle(target);
    if (controlled !== undefined) return { ...socketFields(controlled, peerPid, form), release: () => undefined };
    const { identity, release } = heldSocket(target);
    try {
      return { ...socketFields(findNodeSocket(identity), peerPid, form), release };
    } catch (err) {
      release();
      throw err;
    }
  },

  detach(message, descriptors) {
    for (const d of descriptors) d.close();
    return socketFromFrame(message);
  },
};
