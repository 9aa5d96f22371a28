/**
 * Accepts connections on a listening socket that this package polls itself (never libuv's accept
 * path): poll says readable, then accept4() until EAGAIN. Accepted descriptors are non-blocking
 * and close-on-exec. On EMFILE/ENFILE, or a poll error, it reports and pauses instead of spinning.
 */
import { EAGAIN, EINTR, SOCK_CLOEXEC, SOCK_NONBLOCK, UV_READABLE } from './constants';
import { accept4 } from './libc';
import { lastErrno, posixError } from './posix-error';
import { PollWatcher } from './uv-poll';

const PAUSE_MS = 100;

/**
 * Starts accepting. After stop() no callback runs; the listening fd is not closed. ref()/unref()
 * are net.Server's: whether the poll watcher alone keeps the event loop alive.
 */
export function startAcceptLoop(fd: number, onAccept: (fd: number) => void, onError: (err: Error) => void): { stop(): void; ref(): void; unref(): void } {
  let stopped = false;
  const pause = () => {
    poll.watch(0);
    setTimeout(() => !stopped && poll.watch(UV_READABLE), PAUSE_MS).unref();
  };
  const poll: PollWatcher = new PollWatcher(fd, (status) => {
    if (status < 0) {
      onError(posixError('uv_poll', -status));
      pause();
      return;
    }
    while (!stopped) {
      const accepted = accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (accepted >= 0) {
        onAccept(accepted);
        continue;
      }
      const errno = lastErrno();
      if (errno === EINTR) continue;
      if (errno !== EAGAIN) {
        onError(posixError('accept4', errno));
        pause();
      }
      return;
    }
  });
  poll.watch(UV_READABLE);
  return {
    stop: () => {
      stopped = true;
      poll.close();
    },
    ref: () => poll.ref(),
    unref: () => poll.unref(),
  };
}
