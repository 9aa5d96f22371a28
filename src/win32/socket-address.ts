/** A SOCKET's local or peer address as raw sockaddr bytes, read with getsockname/getpeername. */
import { SOCKADDR_STORAGE_SIZE } from './structs';
import { getpeername, getsockname } from './ws2_32';

/** The sockaddr Winsock reports for `socket`, or undefined when the call fails (not a socket, not connected). */
export function readSockaddr(which: 'local' | 'peer', socket: bigint): Buffer | undefined {
  const buf = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
  const len = [buf.length];
  const call = which === 'local' ? getsockname : getpeername;
  return call(socket, buf, len) === 0 ? buf : undefined;
}
