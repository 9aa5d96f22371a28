/**
 * sd_notify(3) without libsystemd: one AF_UNIX datagram to $NOTIFY_SOCKET. A path, or an abstract
 * name written with a leading '@' (the kernel's leading NUL byte). Node has no Unix datagram
 * sockets, so this goes through libc.
 */
import { invalidArgValue } from '../errors';
import { AF_UNIX, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCKADDR_UN_SIZE } from './constants';
import { close, sendto, socket } from './libc';
import { lastErrno, posixError } from './posix-error';

const SOCK_DGRAM = 2;
/** offsetof(struct sockaddr_un, sun_path). */
const SUN_PATH_OFFSET = 2;

/** struct sockaddr_un for $NOTIFY_SOCKET, and its length (abstract names count exactly their bytes). */
export function notifySocketAddress(target: string): { addr: Buffer; length: number } {
  const abstract = target.startsWith('@');
  const bytes = Buffer.from(abstract ? `\0${target.slice(1)}` : target, 'utf8');
  const max = SOCKADDR_UN_SIZE - SUN_PATH_OFFSET - (abstract ? 0 : 1);
  if (bytes.length < 2 || bytes.length > max || (!abstract && (!target.startsWith('/') || bytes.includes(0)))) {
    throw invalidArgValue('NOTIFY_SOCKET', `an absolute socket path or an abstract name starting with "@", at most ${max} bytes`, target);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, SUN_PATH_OFFSET);
  return { addr, length: SUN_PATH_OFFSET + bytes.length + (abstract ? 0 : 1) };
}

/**
 * Sends `state` ("READY=1\nMAINPID=42") as one datagram to `target`.
 * @throws PosixError (`socket`, `sendto`), SocketHandoffError `ERR_INVALID_ARG_VALUE` for a malformed target.
 */
export function sendNotify(target: string, state: string): void {
  const { addr, length } = notifySocketAddress(target);
  const fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw posixError('socket', lastErrno());
  try {
    const data = Buffer.from(state, 'utf8');
    if (sendto(fd, data, data.length, MSG_NOSIGNAL, addr, length) < 0) throw posixError('sendto', lastErrno(), target);
  } finally {
    close(fd);
  }
}
