/** sendWebSocket(): detachWebSocket() and the channel's send() in one step, undone on failure. */
import type { SendResult, SocketSender } from '../channel/sender';
import { invalidArgType } from '../errors';
import { detachWebSocket } from './detach';
import type { DetachedWebSocket, SendWebSocketOptions, WebSocketLike } from './types';

/**
 * Hands a live WebSocket to the receiver at the other end of `sender`: detachWebSocket(), then
 * `sender.send(socket, { head, meta })`. Resolves once the receiver adopted it; the WebSocket here
 * is then released (CLOSED, 'close' emitted, socket destroyed). On failure it is given back to ws
 * and keeps working here, and the promise rejects with the reason.
 *
 * The receiver resumes it with attachWebSocket(WebSocket, socket, { protocol }); the head bytes
 * are already back in front of the socket there.
 * @throws (rejects) detachWebSocket()'s codes, and send()'s.
 * @example
 * await sendWebSocket(sender, ws, { meta: () => ({ kind: 'websocket', counter }) });
 */
export async function sendWebSocket(sender: SocketSender, ws: WebSocketLike, options: SendWebSocketOptions = {}): Promise<SendResult> {
  if (typeof sender !== 'object' || sender === null || typeof (sender as { send?: unknown }).send !== 'function') {
    throw invalidArgType('sender', 'a SocketSender (from openSender())', sender);
  }
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const detached = await detachWebSocket(ws, { timeout: options.timeout });
  let result: SendResult;
  try {
    const meta = typeof options.meta === 'function' ? (options.meta as (d: DetachedWebSocket) => unknown)(detached) : options.meta;
    result = await sender.send(detached.socket, { head: detached.head, meta });
  } catch (err) {
    detached.reattach();
    throw err;
  }
  detached.release();
  return result;
}
