/**
 * .NET's SocketInformation carries, besides the WSAPROTOCOL_INFOW bytes (our token), an `Options`
 * value (System.Net.Sockets.SocketInformationOptions) saying what state the socket is in; .NET
 * trusts it instead of asking the socket. This gives the right value for a socket exported here.
 */
import * as net from 'node:net';
import { invalidArgType } from './errors';
import { SocketHandle } from './socket-handle';

/** System.Net.Sockets.SocketInformationOptions. */
export const SocketInformationOptions = Object.freeze({ NonBlocking: 1, Connected: 2, Listening: 4, UseOnlyOverlappedIO: 8 });

/**
 * The `Options` for `new SocketInformation { ProtocolInformation = <token bytes>, Options = … }`.
 * Pass the same `blocking` you gave exportSocket(): without it Node's sockets stay non-blocking,
 * and .NET must know (NonBlocking).
 * @example const options = socketInformationOptions(socket, { blocking: true }); // 2 (Connected)
 */
export function socketInformationOptions(socket: net.Socket | net.Server | SocketHandle, options: { blocking?: boolean } = {}): number {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options);
  if (options.blocking !== undefined && typeof options.blocking !== 'boolean') throw invalidArgType('options.blocking', 'a boolean', options.blocking);
  let state: number;
  if (socket instanceof SocketHandle) state = socket.listening ? SocketInformationOptions.Listening : SocketInformationOptions.Connected;
  else if (socket instanceof net.Server) state = SocketInformationOptions.Listening; // HandoverServer too
  else if (socket instanceof net.Socket) state = SocketInformationOptions.Connected;
  else throw invalidArgType('socket', 'a net.Socket, a net.Server or a SocketHandle', socket);
  return state | (options.blocking === true ? 0 : SocketInformationOptions.NonBlocking);
}
