/** Who is at the other end of a connected Unix socket, as the kernel says (SO_PEERCRED). */
import { SO_PEERCRED, SOL_SOCKET, UCRED_SIZE } from './constants';
import { getsockopt } from './libc';
import { lastErrno, posixError } from './posix-error';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The peer's credentials, captured by the kernel when the connection was made. */
export function peerCredentials(fd: number): PeerCredentials {
  const ucred = Buffer.alloc(UCRED_SIZE);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, [UCRED_SIZE]) !== 0) throw posixError('getsockopt', lastErrno(), 'SO_PEERCRED');
  return { pid: ucred.readInt32LE(0), uid: ucred.readUInt32LE(4), gid: ucred.readUInt32LE(8) };
}
