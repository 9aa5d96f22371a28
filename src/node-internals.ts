/**
 * Node's internal TCP handles and streams: `process.binding('tcp_wrap')` to wrap a raw socket in a
 * Node handle, `socket._handle` to read addresses and stop reading, and the stream's
 * `_readableState.reading` flag, which must agree with the handle when a socket is given back.
 * Other internals live in one place each: ws's in websocket/ws-internals.ts, the Linux transport's
 * read of `_handle.fd` in posix/unix-socket-transport.ts, and libuv's exported C functions (loop
 * walk, poll watcher) in win32/libuv*.ts and posix/uv-poll.ts.
 * `process.binding` and `process._tickCallback` warn only under --pending-deprecation;
 * test/cross-process runs this module on every Node line we support (Linux 20, 22, 24 and 26;
 * Windows 20 and 22 under Wine, plus 24 on real Windows in CI).
 */
import * as net from 'node:net';
import { nodeEndpointKey, socketKey, type NodeEndpoint } from './endpoint-key';
import { SocketHandoffError } from './errors';

/** The parts of Node's TCPWrap we use. */
export interface TcpWrap {
  open(fd: number): number;
  close(cb?: () => void): void;
  readStop?(): number;
  readStart?(): number;
  reading?: boolean;
  getsockname?(out: NodeEndpoint): number;
  getpeername?(out: NodeEndpoint): number;
  /** AsyncWrap's id of the handle: unique in this process for its life. */
  getAsyncId?(): number;
}

interface TcpWrapBinding {
  TCP: new (type: number) => TcpWrap;
  constants: { SOCKET: number; SERVER: number };
}

let binding: TcpWrapBinding | undefined;

function tcpWrapBinding(): TcpWrapBinding {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (binding ??= (process as any).binding('tcp_wrap') as TcpWrapBinding);
}

type TickRunner = () => void;

/** Node's own drain of the nextTick queue and the microtasks (lib/internal/bootstrap/node.js), if this Node still exposes it. */
const tickCallback = (process as unknown as { _tickCallback?: TickRunner })._tickCallback;
const NOOP = (): void => undefined;

/**
 * Runs what a callback from libuv left queued: process.nextTick() callbacks and promise
 * continuations. Node runs them after every callback it makes into JavaScript itself (its
 * MakeCallback); a function koffi calls from a libuv callback is not one of those. Node 20 to 24
 * still ran them when that function returned; Node 26 leaves them queued until Node's next own
 * callback (a timer, other I/O), which may be never. A libuv callback through koffi ends with this.
 * Without `process._tickCallback` (a Node that dropped it), an immediate is queued instead: Node
 * runs them when that immediate's callback returns, in the same loop iteration.
 */
export function runQueuedTicks(): void {
  if (typeof tickCallback === 'function') tickCallback.call(process);
  else setImmediate(NOOP);
}

/**
 * Wraps a raw OS socket (a SOCKET on Windows, a descriptor elsewhere) in a new Node TCP handle.
 * Returns the libuv error number (negative) instead of a handle when libuv refuses it.
 */
export function wrapTcpSocket(rawSocket: number, kind: 'server' | 'socket'): TcpWrap | number {
  const { TCP, constants } = tcpWrapBinding();
  const wrap = new TCP(kind === 'server' ? constants.SERVER : constants.SOCKET);
  const err = wrap.open(rawSocket);
  if (err !== 0) {
    wrap.close();
    return err;
  }
  return wrap;
}

/**
 * wrapTcpSocket(), with libuv's refusal as an error.
 * @throws SocketHandoffError `ERR_BINDING_UNAVAILABLE`; the raw socket is then still the caller's, open.
 */
export function tcpHandleFromRaw(rawSocket: number, kind: 'server' | 'socket'): TcpWrap {
  const wrap = wrapTcpSocket(rawSocket, kind);
  if (typeof wrap === 'number') {
    throw new SocketHandoffError('ERR_BINDING_UNAVAILABLE', `Node could not adopt socket ${rawSocket} (libuv error ${wrap}); it is still open: close() it`);
  }
  return wrap;
}

/**
 * A connected raw socket as a working net.Socket, through Node's TCP handle (`handle` is a
 * constructor option of lib/net.js that @types/node leaves out). Unlike the public `fd` option it
 * asks the OS nothing about the socket: the caller knows it is a connected TCP socket.
 * @throws SocketHandoffError `ERR_BINDING_UNAVAILABLE` (tcpHandleFromRaw).
 */
export function netSocketFromRaw(rawSocket: number, allowHalfOpen: boolean): net.Socket {
  const handle = tcpHandleFromRaw(rawSocket, 'socket');
  return new net.Socket({ handle, readable: true, writable: true, allowHalfOpen } as net.SocketConstructorOpts);
}

/** The libuv handle of a Node socket or server, if it has one and it is TCP. */
export function tcpHandleOf(target: net.Socket | net.Server): TcpWrap | undefined {
  const handle = (target as unknown as { _handle?: TcpWrap | null })._handle;
  if (!handle || handle.constructor?.name !== 'TCP') return undefined;
  return handle;
}

/** The address key of a Node TCP handle, computed fresh (Node caches `remoteAddress`). */
export function addressKeyOf(handle: TcpWrap): string | undefined {
  const local: NodeEndpoint = {};
  const peer: NodeEndpoint = {};
  if (!handle.getsockname || handle.getsockname(local) !== 0) return undefined;
  const localKey = nodeEndpointKey(local);
  if (localKey === undefined) return undefined;
  const hasPeer = handle.getpeername !== undefined && handle.getpeername(peer) === 0;
  return socketKey(localKey, hasPeer ? nodeEndpointKey(peer) : undefined);
}

/**
 * Stops this process reading from a socket, for good: bytes that arrive from now on stay in the
 * kernel for whoever holds the duplicate. readStop() alone is not enough, because Node calls
 * readStart() again whenever its stream wants data and `handle.reading` is false (lib/net.js
 * tryReadStart), e.g. on socket.read() or resume(). So `reading` is left claiming true.
 * Returns a function that undoes it, for when the export fails.
 */
export function holdReading(handle: TcpWrap): () => void {
  const wasReading = handle.reading === true;
  if (wasReading) handle.readStop?.();
  handle.reading = true;
  return () => {
    if (!wasReading) handle.reading = false;
    else if (handle.readStart?.() !== 0) handle.reading = false;
  };
}

/** What takeReadableBuffer() returns when nothing is buffered: one empty Buffer, not one per call. */
const NO_BYTES = Buffer.alloc(0);

/** The part of a Readable's internal state that says a _read() is outstanding. */
interface ReadingState {
  reading: boolean;
  flowing: boolean | null;
}

function readingState(socket: net.Socket): ReadingState | undefined {
  return (socket as unknown as { _readableState?: ReadingState })._readableState;
}

/**
 * Takes every byte a socket's stream has buffered but nobody consumed, leaving the stream as it
 * was: no 'data' is emitted for them, and no read is left pending. Call it with reading held
 * (holdReading), so that nothing new arrives meanwhile.
 *
 * Why not plain `socket.read()`: it emits 'data' (a listener would see the bytes that travel on),
 * and on a stream with nothing buffered it calls _read(), which sets `reading`; with the handle
 * held no data ever comes to clear it, and a later resume() then never starts the handle again.
 */
export function takeReadableBuffer(socket: net.Socket): Buffer {
  if (socket.readableLength === 0) return NO_BYTES;
  const state = readingState(socket);
  const wasReading = state?.reading;
  const chunks: Buffer[] = [];
  const ownEmit = Object.prototype.hasOwnProperty.call(socket, 'emit');
  const emit = socket.emit;
  socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
    return event === 'data' ? false : emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  };
  try {
    let chunk: Buffer | string | null;
    while (socket.readableLength > 0 && (chunk = socket.read(socket.readableLength)) !== null) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, (socket.readableEncoding ?? 'utf8') as BufferEncoding) : chunk);
    }
  } finally {
    if (ownEmit) socket.emit = emit;
    else delete (socket as { emit?: unknown }).emit;
    if (state && wasReading !== undefined) state.reading = wasReading;
  }
  return Buffer.concat(chunks);
}

/**
 * After reading was held and released (a hand-off that failed): makes the stream agree with its
 * handle again. A `reading` flag left set while the handle is stopped would keep resume() and
 * read() from ever starting it; a stream that is flowing is started now.
 */
export function resyncReading(socket: net.Socket): void {
  const state = readingState(socket);
  const handle = tcpHandleOf(socket);
  if (!state || !handle || socket.destroyed) return;
  if (handle.reading !== true && state.reading) state.reading = false;
  if (state.flowing === true && handle.reading !== true) socket.read(0);
}
