/**
 * Moves a live WebSocket of the `ws` package (version 8) from one process to another, without the
 * client noticing: `sendWebSocket()` on the side that has it, `attachWebSocket()` on the side that
 * receives it. `detachWebSocket()` is the step underneath, for other ways of moving the socket.
 *
 * This module never loads `ws`: the receiving side passes its WebSocket class in. It relies on
 * internals of ws 8 (its Receiver's parser state, its socket listeners, `setSocket()`), checks them
 * at run time and refuses anything it does not recognise with `ERR_INVALID_ARG_VALUE`.
 * Only server-side WebSockets without extensions (no permessage-deflate) and not over TLS can move:
 * compression contexts and TLS sessions live in the process and cannot be handed over.
 */
export { detachWebSocket } from './detach';
export { sendWebSocket } from './send';
export { attachWebSocket } from './attach';
export type { DetachedWebSocket, DetachOptions, SendWebSocketOptions, AttachOptions, WebSocketLike, WebSocketClass } from './types';
