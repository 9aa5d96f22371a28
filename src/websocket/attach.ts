/** attachWebSocket(): resumes, in this process, a WebSocket whose socket came from another one. */
import * as net from 'node:net';
import { invalidArgType, invalidArgValue } from '../errors';
import type { AttachOptions, WebSocketClass, WebSocketLike } from './types';
import type { WsInternals } from './ws-internals';

/**
 * Resumes a WebSocket whose socket came from another process (sendWebSocket() or
 * detachWebSocket() there): returns a new server-side WebSocket of the given class, OPEN, that
 * parses `head` and then everything the socket reads. 'open' has already been emitted.
 * The WebSocket is not in any WebSocketServer's `clients`.
 * @param WebSocket the WebSocket class of ws 8 (`require('ws').WebSocket`); this package does not load ws itself.
 * @param socket the adopted connection (from the receiver's onSocket).
 * @throws `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` (not ws 8's class, socket not usable).
 * @example
 * openReceiver('worker-b', (socket, { meta }) => {
 *   const ws = attachWebSocket(WebSocket, socket, { protocol: meta.protocol });
 *   ws.on('message', (data) => ws.send(data));
 * });
 */
export function attachWebSocket<T extends WebSocketLike>(WebSocket: WebSocketClass<T>, socket: net.Socket, options: AttachOptions = {}): T {
  if (typeof WebSocket !== 'function' || typeof (WebSocket.prototype as { setSocket?: unknown }).setSocket !== 'function') {
    throw invalidArgValue('WebSocket', "the WebSocket class of ws 8 (require('ws').WebSocket)", WebSocket);
  }
  if (!(socket instanceof net.Socket)) throw invalidArgType('socket', 'a net.Socket', socket);
  if (socket.destroyed) throw invalidArgValue('socket', 'an open net.Socket', socket);
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const head = options.head === undefined ? Buffer.alloc(0) : options.head;
  if (!(head instanceof Uint8Array)) throw invalidArgType('options.head', 'a Buffer or a Uint8Array', head);
  if (options.protocol !== undefined && typeof options.protocol !== 'string') throw invalidArgType('options.protocol', 'a string', options.protocol);

  const ws = new WebSocket(null, undefined, { autoPong: options.autoPong ?? true });
  const w = ws as unknown as WsInternals & { setSocket(socket: net.Socket, head: Buffer, opts: object): void };
  w._protocol = options.protocol ?? '';
  if (options.binaryType !== undefined) ws.binaryType = options.binaryType;
  w.setSocket(socket, Buffer.from(head.buffer, head.byteOffset, head.byteLength), {
    allowSynchronousEvents: options.allowSynchronousEvents ?? true,
    maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
    skipUTF8Validation: options.skipUTF8Validation ?? false,
  });
  socket.resume(); // a socket paused before (by detachWebSocket() in this process, say) does not flow on its own
  return ws;
}
