/** detachWebSocket(): takes an open server-side WebSocket away from ws 8, so that its socket can move. */
import * as net from 'node:net';
import { invalidArgType, invalidArgValue, SocketHandoffError, type ErrorCode } from '../errors';
import type { DetachedWebSocket, DetachOptions, WebSocketLike } from './types';
import {
  bytesWanted,
  CLOSING,
  DEFER_EVENT,
  GET_INFO,
  INFLATING,
  OPEN,
  readUpTo,
  SOCKET_EVENTS,
  wsListener,
  type Listener,
  type SocketEvent,
  type WsInternals,
} from './ws-internals';

const detaching = new WeakSet<object>();

function unsupported(name: string, why: string, value: unknown): SocketHandoffError {
  return invalidArgValue(name, `an open server-side WebSocket of ws 8 (${why})`, value);
}

function checkTimeout(value: unknown): number {
  if (value === undefined) return 5000;
  if (typeof value !== 'number') throw invalidArgType('options.timeout', 'a number', value);
  if (!Number.isFinite(value) || value <= 0) throw invalidArgValue('options.timeout', 'a positive number of milliseconds', value);
  return value;
}

/**
 * Takes an open server-side WebSocket away from `ws` so that its socket can be handed to another
 * process, where attachWebSocket() resumes it.
 *
 * It stops ws reading, lets ws finish a message the peer is in the middle of sending (its parser
 * is fed byte-exactly up to the end of that message, so 'message' may still be emitted here),
 * waits until everything ws wrote has left the process (`bufferedAmount` 0), then collects the
 * bytes read but not parsed. From then on `ws.readyState` is CLOSING and `ws.send()` fails, until
 * `reattach()` (OPEN again) or `release()` (CLOSED). Hand the socket over at once: bytes that
 * arrive meanwhile wait in the socket (the hand-off channel's send() takes them along).
 *
 * @param ws a `WebSocket` of ws 8 made by a WebSocketServer (or by attachWebSocket()), OPEN, without extensions.
 * @throws (rejects) `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` (not such a WebSocket, or already being detached),
 *   `ERR_UNSUPPORTED_SOCKET_TYPE` (over TLS), `ERR_SOCKET_CLOSED` (the connection ended or ws started closing meanwhile),
 *   `ERR_HANDOFF_TIMEOUT`. On rejection the WebSocket is back with ws, unchanged.
 * @example
 * const detached = await detachWebSocket(ws);
 * try { await sender.send(detached.socket, { head: detached.head }); detached.release(); }
 * catch (err) { detached.reattach(); }
 */
export async function detachWebSocket(ws: WebSocketLike, options: DetachOptions = {}): Promise<DetachedWebSocket> {
  if (typeof ws !== 'object' || ws === null) throw invalidArgType('ws', 'a WebSocket of the ws package', ws);
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'an object', options);
  const timeout = checkTimeout(options.timeout);
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const receiver = w._receiver;
  if (!(socket instanceof net.Socket) || !receiver || typeof receiver._state !== 'number' || !Array.isArray(receiver._buffers) || !w._sender) {
    throw unsupported('ws', 'this object does not have the internals of a connected ws 8 WebSocket', ws);
  }
  if (w._isServer !== true) throw unsupported('ws', 'this is a client-side WebSocket', ws);
  if (w.readyState !== OPEN) throw unsupported('ws', `its readyState is ${w.readyState}, not OPEN (1)`, ws);
  if (Object.keys(w._extensions ?? {}).length > 0) {
    throw unsupported('ws', `it negotiated ${Object.keys(w._extensions).join(', ')}; create the WebSocketServer with perMessageDeflate: false`, ws);
  }
  if ((socket as unknown as { encrypted?: boolean }).encrypted) {
    throw new SocketHandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', 'detachWebSocket(): a WebSocket over TLS cannot move to another process (the TLS session stays here)');
  }
  if (detaching.has(w)) throw unsupported('ws', 'it is already being detached', ws);

  // Take ws's listeners off the socket; remember them to put them back.
  const names: Record<SocketEvent, string> = { data: 'socketOnData', end: 'socketOnEnd', close: 'socketOnClose', error: 'socketOnError' };
  const saved = {} as Record<SocketEvent, Listener>;
  for (const event of SOCKET_EVENTS) {
    const fn = wsListener(socket, event, names[event]);
    if (!fn) throw unsupported('ws', `ws's '${event}' listener is not on its socket (ws internals not recognised)`, ws);
    saved[event] = fn;
  }
  const onDrain = wsListener(receiver, 'drain', 'receiverOnDrain');
  detaching.add(w);
  for (const event of SOCKET_EVENTS) socket.removeListener(event, saved[event]);
  // ws resumes the socket when its parser drains; it must not while detached.
  if (onDrain) receiver.removeListener('drain', onDrain);
  socket.pause();
  let socketError: Error | undefined;
  const onError = (err: Error) => (socketError ??= err);
  socket.on('error', onError);

  let fromSocket: Buffer[] = [];
  let savedBufferedBytes = 0;
  let heldClosing = false; // readyState set to CLOSING by us (not by ws closing)
  let settled = false;
  const reattach = () => {
    if (settled) return;
    settled = true;
    detaching.delete(w);
    for (let i = fromSocket.length - 1; i >= 0; i--) if (!socket.destroyed) socket.unshift(fromSocket[i]);
    fromSocket = [];
    if (heldClosing && w._readyState === CLOSING) {
      w._readyState = OPEN;
      if (w._sender) w._sender._bufferedBytes = savedBufferedBytes; // drop what send() counted while we held it
    }
    socket.removeListener('error', onError);
    for (const event of SOCKET_EVENTS) socket.on(event, saved[event]);
    if (onDrain) receiver.on('drain', onDrain);
    // Tell ws what it missed meanwhile, then let it read again.
    if (socketError) saved.error.call(socket, socketError);
    if ((socket as unknown as { closed?: boolean }).closed) saved.close.call(socket);
    else if (socket.readableEnded) saved.end.call(socket);
    else if (!w._paused && !receiver._writableState.needDrain) socket.resume();
  };
  const release = () => {
    if (settled) return;
    settled = true;
    detaching.delete(w);
    socket.removeListener('error', onError);
    socket.on('error', () => undefined); // this copy is finished; nothing it reports matters now
    if (!socket.destroyed) socket.destroy();
    w.emitClose();
  };

  const deadline = Date.now() + timeout;
  const fail = (code: ErrorCode, message: string): never => {
    reattach();
    throw new SocketHandoffError(code, `detachWebSocket(): ${message}`);
  };
  const checkAlive = () => {
    if (w._closeFrameReceived || receiver._errored || receiver._writableState.errorEmitted) fail('ERR_SOCKET_CLOSED', 'the WebSocket started closing');
    if (socketError || socket.destroyed) fail('ERR_SOCKET_CLOSED', `the connection closed${socketError ? ` (${socketError.message})` : ''}`);
    if (Date.now() > deadline) fail('ERR_HANDOFF_TIMEOUT', `the WebSocket did not reach the end of a message and flush its writes within ${timeout} ms`);
  };

  // 1. Let ws's parser reach the end of a message: no frame, no fragmented message half parsed.
  for (;;) {
    checkAlive();
    const busy = receiver.writableLength > 0 || receiver._state === INFLATING || receiver._state === DEFER_EVENT;
    if (!busy && receiver._state === GET_INFO && receiver._fragmented === 0) break;
    if (busy) {
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const wanted = bytesWanted(receiver);
    if (wanted <= 0) fail('ERR_INVALID_ARG_VALUE', `ws's parser is in a state this version does not know (${receiver._state})`);
    let chunk: Buffer;
    try {
      chunk = await readUpTo(socket, wanted, deadline - Date.now());
    } catch (err) {
      return fail((err as SocketHandoffError).code, (err as Error).message);
    }
    receiver.write(chunk); // ws parses it now and may emit 'message' (and the application may answer)
  }

  // 2. Let everything ws wrote leave the process.
  while (w.bufferedAmount > 0) {
    checkAlive();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  checkAlive();

  // 3. What was read but not parsed: the start of the next frame, then Node's read buffer.
  let chunk: Buffer | string | null;
  while ((chunk = socket.read() as Buffer | string | null) !== null) fromSocket.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const head = Buffer.concat([...receiver._buffers, ...fromSocket]);
  savedBufferedBytes = w._sender._bufferedBytes;
  w._readyState = CLOSING;
  heldClosing = true;
  return { socket, head, protocol: w._protocol ?? '', binaryType: w._binaryType ?? 'nodebuffer', reattach, release };
}
