/**
 * A received descriptor: what kind of socket it is (read from the kernel), and how Node adopts it,
 * through the public `fd` options of net.Socket and server.listen().
 */
import * as net from 'node:net';
import { SocketHandoffError } from '../errors';
import type { SocketHandleInfo } from '../platform-api';
import { AF_INET, AF_INET6, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL, SO_TYPE, SOL_SOCKET } from './constants';
import { close, getsockopt } from './libc';
import { lastErrno, posixError } from './posix-error';

/** close(), as a PosixError on failure. */
export function closeDescriptor(handle: bigint): void {
  if (close(Number(handle)) !== 0) throw posixError('close', lastErrno());
}

/** A connected TCP descriptor as a working net.Socket (Node's public `fd` option). */
export function adoptSocketDescriptor(handle: bigint, allowHalfOpen: boolean): net.Socket {
  return new net.Socket({ fd: Number(handle), readable: true, writable: true, allowHalfOpen });
}

/** A listening TCP descriptor as an already listening net.Server (libuv accepts on it). */
export function adoptServerDescriptor(handle: bigint): net.Server {
  return net.createServer().listen({ fd: Number(handle) });
}

function intOption(fd: number, name: number, what: string): number {
  const value = Buffer.alloc(4);
  if (getsockopt(fd, SOL_SOCKET, name, value, [4]) !== 0) throw posixError('getsockopt', lastErrno(), what);
  return value.readInt32LE(0);
}

/**
 * Takes ownership of a received descriptor and says what it is. It is closed here when it is not
 * an IPv4/IPv6 socket; otherwise the caller owns it.
 * @throws SocketHandoffError `ERR_UNSUPPORTED_SOCKET_TYPE`
 */
export function descriptorInfo(received: { take(): number }): SocketHandleInfo {
  const fd = received.take();
  let info: SocketHandleInfo;
  try {
    info = {
      handle: BigInt(fd),
      family: intOption(fd, SO_DOMAIN, 'SO_DOMAIN'),
      type: intOption(fd, SO_TYPE, 'SO_TYPE'),
      protocol: intOption(fd, SO_PROTOCOL, 'SO_PROTOCOL'),
      listening: intOption(fd, SO_ACCEPTCONN, 'SO_ACCEPTCONN') !== 0,
    };
  } catch (cause) {
    close(fd);
    throw new SocketHandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', `the descriptor received is not a socket (${(cause as Error).message}); it was closed`, { cause });
  }
  if (info.family !== AF_INET && info.family !== AF_INET6) {
    close(fd);
    throw new SocketHandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', `the channel carries IPv4 and IPv6 sockets; this one has address family ${info.family}; it was closed`);
  }
  return info;
}
