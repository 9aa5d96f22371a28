/** struct sockaddr_un for a filesystem path (Linux: sa_family_t, then up to 107 bytes and a NUL). */
import { invalidArgValue } from '../errors';
import { AF_UNIX, SOCKADDR_UN_SIZE, SUN_PATH_MAX } from './constants';

export function unixSocketAddress(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0 || bytes.length > SUN_PATH_MAX || bytes.includes(0)) {
    throw invalidArgValue('name', `a socket path of 1 to ${SUN_PATH_MAX} bytes without NUL`, path);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}
