/**
 * A received descriptor: what kind of socket it is (read from the kernel), and how Node adopts it,
 * through Node's TCP handle for a connection and the public `fd` option of server.listen() for a listener.
 */
import * as net from 'node:net';
import { SocketHandoffError } from '../errors';
import { readIntOption } from '../int-option';
import { netSocketFromRaw } from '../node-internals';
import type { SocketHandleInfo } from '../platform-api';
import { AF_INET, AF_INET6, F_DUPFD_CLOEXEC, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_NONBLOCK, SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL, SO_TYPE, SOL_SOCKET } from './constants';
import { close, fcntl, getsockoptAt } from './libc';
import { lastErrno, posixError } from './posix-error';

/** close(), as a PosixError on failure. */
export function closeDescriptor(handle: bigint): void {
  if (close(Number(handle)) !== 0) throw posixError('close', lastErrno());
}

/**
 * A connected TCP descriptor (descriptorInfo() said so) as a working net.Socket. Through Node's
 * handle, not the public `fd` option, which would ask the kernel again what the descriptor is.
 */
export function adoptSocketDescriptor(handle: bigint, allowHalfOpen: boolean): net.Socket {
  return netSocketFromRaw(Number(handle), allowHalfOpen);
}

/** A listening TCP descriptor as an already listening net.Server (libuv accepts on it). */
export function adoptServerDescriptor(handle: bigint): net.Server {
  return net.createServer().listen({ fd: Number(handle) });
}

/** An int SOL_SOCKET option of a received descriptor. */
function intOption(fd: number, name: number, what: string): number {
  const value = readIntOption((at, length) => getsockoptAt(fd, SOL_SOCKET, name, at, length));
  if (value === undefined) throw posixError('getsockopt', lastErrno(), what);
  return value;
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

/** A second descriptor for the same socket, close-on-exec. @throws PosixError */
export function duplicateDescriptor(socket: bigint): bigint {
  const copy = fcntl(Number(socket), F_DUPFD_CLOEXEC, 'int', 0);
  if (copy < 0) throw posixError('fcntl', lastErrno(), 'F_DUPFD_CLOEXEC');
  return BigInt(copy);
}

/**
 * A descriptor this process inherited (systemd socket activation): made close-on-exec, so no child
 * inherits it again, and non-blocking, which the accept path needs; then what descriptorInfo() says.
 * @throws SocketHandoffError `ERR_UNSUPPORTED_SOCKET_TYPE` (it was closed)
 */
export function inheritedDescriptorInfo(fd: number): SocketHandleInfo {
  fcntl(fd, F_SETFD, 'int', FD_CLOEXEC);
  const flags = fcntl(fd, F_GETFL, 'int', 0);
  if (flags >= 0) fcntl(fd, F_SETFL, 'int', flags | O_NONBLOCK);
  return descriptorInfo({ take: () => fd });
}
