/**
 * Checks shared by exportSocket(), socket_wsaprotocol_info_export() and both channel transports:
 * which Node sockets and servers can be handed over, and how to reach their raw socket.
 */
import * as net from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { controlledListenerHandle } from './controlled-listener';
import { SocketHandoffError } from './errors';
import { addressKeyOf, holdReading, tcpHandleOf, type TcpWrap } from './node-internals';
import type { NodeSocketIdentity } from './platform-api';

/**
 * The TCP handle of a Node socket or server that can be handed over: a listening server, or a
 * connected, open socket.
 * @throws SocketHandoffError `ERR_NOT_LISTENING`, `ERR_SOCKET_CLOSED`, `ERR_NOT_CONNECTED`, `ERR_UNSUPPORTED_SOCKET_TYPE`
 */
export function exportableTcpHandle(target: net.Socket | net.Server): TcpWrap {
  if (target instanceof net.Server && !target.listening) {
    throw new SocketHandoffError('ERR_NOT_LISTENING', 'exportSocket(): this net.Server is not listening; call listen() and wait for "listening"');
  }
  if (target instanceof net.Socket) {
    if (target.destroyed) throw new SocketHandoffError('ERR_SOCKET_CLOSED', 'exportSocket(): this net.Socket is destroyed');
    if (target.connecting) throw new SocketHandoffError('ERR_NOT_CONNECTED', 'exportSocket(): this net.Socket is still connecting; wait for "connect"');
  }
  const handle = tcpHandleOf(target);
  if (handle === undefined) {
    throw new SocketHandoffError(
      'ERR_UNSUPPORTED_SOCKET_TYPE',
      'exportSocket(): only TCP sockets and servers can be exported; this one has no TCP handle (a pipe, a TLS socket: export its underlying TCP socket, or a socket never connected)',
    );
  }
  return handle;
}

/**
 * The raw socket of a listener this package accepts on itself (a HandoverServer) that still
 * listens; undefined for any other target.
 * @throws SocketHandoffError `ERR_NOT_LISTENING` when it is closed.
 */
export function controlledHandle(target: object): bigint | undefined {
  const raw = controlledListenerHandle(target);
  if (raw === null) return undefined;
  if (raw === undefined) throw new SocketHandoffError('ERR_NOT_LISTENING', 'exportSocket(): this HandoverServer is closed');
  return raw;
}

/**
 * What identifies a Node socket or server to the Windows side, which must find its SOCKET (Node
 * hides it): the handle's async id, and its address key, read from the OS only when asked. For a
 * net.Socket, Node stops reading it first and `release()` undoes that.
 * @throws SocketHandoffError `ERR_NOT_MAIN_THREAD` and the exportableTcpHandle() codes; `key()`
 * throws `ERR_SOCKET_CLOSED` when the socket has no local address any more.
 */
export function heldSocket(target: net.Socket | net.Server): { identity: NodeSocketIdentity; release: () => void } {
  if (!isMainThread) {
    // The SOCKET is found in the main thread's libuv loop; a worker has a loop of its own.
    throw new SocketHandoffError(
      'ERR_NOT_MAIN_THREAD',
      'exportSocket(): Node sockets and servers can be exported from the main thread only; from a worker thread, pass a raw SOCKET value',
    );
  }
  const handle = exportableTcpHandle(target);
  const identity: NodeSocketIdentity = {
    asyncId: typeof handle.getAsyncId === 'function' ? handle.getAsyncId() : undefined,
    key() {
      const key = addressKeyOf(handle);
      if (key === undefined) {
        throw new SocketHandoffError('ERR_SOCKET_CLOSED', 'exportSocket(): this socket has no local address any more; it is closed or closing');
      }
      return key;
    },
  };
  return { identity, release: target instanceof net.Socket ? holdReading(handle) : () => undefined };
}
