/**
 * HandoverServer on Linux: a listening TCP socket made with libc and accepted by this package
 * (poll, then accept4), the same controlled accept path as on Windows. On Linux a listener shared
 * by several processes has one accept queue in the kernel, so closing one copy loses nothing.
 */
import { isIP } from 'node:net';
import { addressToSockaddr, sockaddrToAddress, type AddressInfo } from '../endpoint-key';
import { invalidArgValue, type SocketHandoffError } from '../errors';
import type { AcceptLoop } from '../platform-api';
import { startAcceptLoop } from './accept-loop';
import { AF_INET, AF_INET6, SO_REUSEADDR, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET } from './constants';
import { bind_, close, getsockname, listen, setsockopt, socket } from './libc';
import { lastErrno, posixError } from './posix-error';

export function listenSocket({ host, port, backlog }: { host: string; port: number; backlog: number }): bigint {
  const family = isIP(host);
  if (family === 0) throw invalidArgValue('options.host', 'an IPv4 or IPv6 address literal (no host names)', host);
  const fd = socket(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw posixError('socket', lastErrno());
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    // As Node's own listeners: a restarted server may bind while old connections sit in TIME_WAIT.
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) !== 0) throw posixError('setsockopt', lastErrno(), 'SO_REUSEADDR');
    const name = addressToSockaddr(host, port, AF_INET, AF_INET6);
    if (bind_(fd, name, name.length) !== 0) throw posixError('bind', lastErrno(), `${host}:${port}`);
    if (listen(fd, Math.min(backlog, 0x7fffffff)) !== 0) throw posixError('listen', lastErrno());
    return BigInt(fd);
  } catch (err) {
    close(fd);
    throw err;
  }
}

export function localAddress(fd: bigint): AddressInfo | undefined {
  const addr = Buffer.alloc(28);
  if (getsockname(Number(fd), addr, [addr.length]) !== 0) return undefined;
  return sockaddrToAddress(addr, AF_INET, AF_INET6);
}

export function acceptLoop(fd: bigint, onAccept: (socket: bigint) => void, onError: (err: SocketHandoffError) => void): AcceptLoop {
  const loop = startAcceptLoop(Number(fd), (accepted) => onAccept(BigInt(accepted)), (err) => onError(err as SocketHandoffError));
  return {
    stop: () => {
      loop.stop();
      return Promise.resolve();
    },
    ref: () => loop.ref(),
    unref: () => loop.unref(),
  };
}
