/**
 * The only module that touches Node internals: `process.binding('tcp_wrap')` to wrap a raw
 * socket in a Node handle, and `socket._handle` to read addresses and stop reading.
 * `process.binding` warns only under --pending-deprecation; test/cross-process runs this module on
 * every Node line we support (20 and 22, plus 24 on real Windows in CI).
 */
import type * as net from 'node:net';
import { nodeEndpointKey, socketKey, type NodeEndpoint } from './endpoint-key';

/** The parts of Node's TCPWrap we use. */
export interface TcpWrap {
  open(fd: number): number;
  close(cb?: () => void): void;
  readStop?(): number;
  readStart?(): number;
  reading?: boolean;
  getsockname?(out: NodeEndpoint): number;
  getpeername?(out: NodeEndpoint): number;
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
