/** Connects to a Unix stream socket by path, without blocking the event loop. */
import { AF_UNIX, EAGAIN, EINTR, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from './constants';
import { close, connect, socket } from './libc';
import { lastErrno, posixError } from './posix-error';
import { unixSocketAddress } from './socket-address';
import { UnixLink } from './unix-link';

/** Retry delay while the listener's backlog is full (connect() says EAGAIN on a non-blocking Unix socket). */
const BACKLOG_RETRY_MS = 5;

export function connectUnix(path: string, timeoutMs: number): Promise<UnixLink> {
  const addr = unixSocketAddress(path);
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      reject(posixError('socket', lastErrno()));
      return;
    }
    const attempt = () => {
      for (;;) {
        if (connect(fd, addr, addr.length) === 0) break;
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN && Date.now() < deadline) {
          setTimeout(attempt, BACKLOG_RETRY_MS);
          return;
        }
        close(fd);
        reject(posixError('connect', errno, path));
        return;
      }
      try {
        resolve(new UnixLink(fd));
      } catch (err) {
        reject(err); // UnixLink closed fd
      }
    };
    attempt();
  });
}
