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
import * as net from 'node:net';
import type { SendResult, SocketSender } from './channel/sender';
import { invalidArgType, invalidArgValue, SocketHandoffError } from './errors';

// ws 8's Receiver states (lib/receiver.js).
const GET_INFO = 0;
const GET_PAYLOAD_LENGTH_16 = 1;
const GET_PAYLOAD_LENGTH_64 = 2;
const GET_MASK = 3;
const GET_DATA = 4;
const INFLATING = 5;
const DEFER_EVENT = 6;

const OPEN = 1;
const CLOSING = 2;

const SOCKET_EVENTS = ['data', 'end', 'close', 'error'] as const;
type SocketEvent = (typeof SOCKET_EVENTS)[number];
type Listener = (...args: unknown[]) => void;

/** The parts of ws 8's Receiver that are read here. */
interface WsReceiver extends NodeJS.EventEmitter {
  _state: number;
  _fragmented: number;
  _bufferedBytes: number;
  _buffers: Buffer[];
  _payloadLength: number;
  _errored: boolean;
  writableLength: number;
  write(chunk: Buffer): boolean;
  _writableState: { needDrain: boolean; errorEmitted: boolean };
}

/** The parts of a ws 8 WebSocket that are used here. */
interface WsInternals {
  readonly readyState: number;
  readonly bufferedAmount: number;
  _readyState: number;
  _isServer: boolean;
  _paused: boolean;
  _protocol: string;
  _binaryType: string;
  _extensions: Record<string, unknown>;
  _closeFrameReceived: boolean;
  _socket: net.Socket | null;
  _receiver: WsReceiver | null;
  _sender: { _bufferedBytes: number } | null;
  emitClose(): void;
}

/**
 * A minimal view of a `ws` WebSocket, so that this package's types do not depend on `ws`.
 * Pass the `WebSocket` objects of `ws` 8.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
}

/** A WebSocket taken away from `ws`: what travels, and how to finish or undo. See detachWebSocket(). */
export interface DetachedWebSocket {
  /** The connection. ws no longer reads from it or watches it; it is paused. */
  readonly socket: net.Socket;
  /**
   * Bytes already read from `socket` that ws had not turned into messages yet: the start of a
   * frame, and whatever Node had buffered. The next owner must parse them before anything else
   * (give them as `head` to send() or to attachWebSocket()).
   */
  readonly head: Buffer;
  /** The subprotocol agreed in the handshake (`''` if none); attachWebSocket() takes it as `protocol`. */
  readonly protocol: string;
  /** The WebSocket's `binaryType`; attachWebSocket() takes it as `binaryType`. */
  readonly binaryType: string;
  /**
   * Undo: gives the socket back to ws, which carries on as if nothing happened (for when the
   * hand-off failed). Bytes put back into `socket` by whoever tried to send it are read again.
   */
  reattach(): void;
  /**
   * Finish: the socket now lives in another process. This process's copy is destroyed (never
   * ended), and the WebSocket here becomes CLOSED and emits 'close' (code 1006) so that whatever
   * tracks it (a WebSocketServer's `clients`) forgets it. The peer sees nothing.
   */
  release(): void;
}

/** Options of detachWebSocket() and sendWebSocket(). */
export interface DetachOptions {
  /**
   * How long to wait (ms) for the end of a message the peer is in the middle of sending, and for
   * ws to finish writing. Default 5000. On timeout the WebSocket is given back and the call
   * rejects with `ERR_HANDOFF_TIMEOUT`.
   */
  timeout?: number;
}

/** Options of sendWebSocket(). */
export interface SendWebSocketOptions extends DetachOptions {
  /**
   * Any JSON value for the receiver's `info.meta`. A function is called once the WebSocket is
   * detached (no message is delivered after that), so that it can report the final state.
   */
  meta?: ((detached: DetachedWebSocket) => unknown) | object | string | number | boolean | null;
}

/** Options of attachWebSocket(): the state to restore, and ws's own server options. */
export interface AttachOptions {
  /** Bytes to parse before reading the socket: DetachedWebSocket.head, if the transport did not put it back itself. */
  head?: Buffer | Uint8Array;
  /** The subprotocol agreed in the handshake (`ws.protocol` before the move). Default `''`. */
  protocol?: string;
  /** `binaryType` of the new WebSocket. Default `'nodebuffer'`. */
  binaryType?: string;
  /** As WebSocketServer's option of the same name. Default true. */
  allowSynchronousEvents?: boolean;
  /** As WebSocketServer's option of the same name. Default true. */
  autoPong?: boolean;
  /** As WebSocketServer's option of the same name. Default 100 MiB. */
  maxPayload?: number;
  /** As WebSocketServer's option of the same name. Default false. */
  skipUTF8Validation?: boolean;
}

/** The WebSocket class of `ws` 8 (`require('ws').WebSocket`), or a subclass. */
export type WebSocketClass<T> = new (address: null, ...rest: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any

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

/** ws's own listener for `event` on the socket (ws 8 names them socketOnData, socketOnEnd, …). */
function wsListener(emitter: NodeJS.EventEmitter, event: string, name: string): Listener | undefined {
  return (emitter.listeners(event) as Listener[]).find((fn) => fn.name === name);
}

/** How many more bytes ws's parser needs before its state can change (never more than the current frame). */
function bytesWanted(receiver: WsReceiver): number {
  switch (receiver._state) {
    case GET_INFO:
    case GET_PAYLOAD_LENGTH_16:
      return 2 - receiver._bufferedBytes;
    case GET_PAYLOAD_LENGTH_64:
      return 8 - receiver._bufferedBytes;
    case GET_MASK:
      return 4 - receiver._bufferedBytes;
    case GET_DATA:
      return receiver._payloadLength - receiver._bufferedBytes;
    default:
      return 0;
  }
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
  const fail = (code: string, message: string): never => {
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

/** Resolves with the next bytes of `socket`, at most `max`; the rest stays in the socket. */
function readUpTo(socket: net.Socket, max: number, timeout: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, chunk?: Buffer) => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      if (err) reject(err);
      else resolve(chunk as Buffer);
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      done(undefined, chunk.subarray(0, max));
      // Paused and without our listener now, so the rest stays in the socket instead of coming straight back.
      if (chunk.length > max) socket.unshift(chunk.subarray(max));
    };
    const onEnd = () => done(new SocketHandoffError('ERR_SOCKET_CLOSED', 'the connection ended in the middle of a message'));
    const timer = setTimeout(
      () => done(new SocketHandoffError('ERR_HANDOFF_TIMEOUT', 'the peer did not finish the message it was sending in time')),
      Math.max(timeout, 0),
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

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
