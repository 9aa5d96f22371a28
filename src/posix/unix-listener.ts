/**
 * A listening Unix stream socket at a path, accepted by this package (never by Node, which would
 * read the connections). Only one receiver holds a path at a time: it keeps an exclusive flock on
 * `<path>.lock` while it listens, so a socket file found without that lock is stale (its receiver
 * died) and is replaced, and one found with it means the channel is in use.
 */
import * as fs from 'node:fs';
import { SocketHandoffError } from '../errors';
import { startAcceptLoop } from './accept-loop';
import { AF_UNIX, EAGAIN, LOCK_EX, LOCK_NB, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from './constants';
import { bind_, close, flock, listen, socket } from './libc';
import { lastErrno, posixError } from './posix-error';
import { peerCredentials, type PeerCredentials } from './socket-credentials';
import { unixSocketAddress } from './socket-address';
import { UnixLink } from './unix-link';

const BACKLOG = 511;
export type OnUnixConnection = (link: UnixLink, peer: PeerCredentials) => void;

export class UnixListener {
  readonly path: string;
  /** True if a stale socket file from a dead receiver was replaced. */
  readonly replacedStale: boolean;
  readonly #fd: number;
  readonly #lockFd: number;
  readonly #stopAccepting: () => void;
  readonly #onConnection: OnUnixConnection;
  readonly #onError: (err: Error) => void;
  readonly #inode: number;
  #closed = false;

  private constructor(path: string, fd: number, lockFd: number, replacedStale: boolean, onConnection: OnUnixConnection, onError: (err: Error) => void) {
    this.path = path;
    this.#fd = fd;
    this.#lockFd = lockFd;
    this.replacedStale = replacedStale;
    this.#onConnection = onConnection;
    this.#onError = onError;
    this.#inode = fs.statSync(path).ino;
    const loop = startAcceptLoop(fd, (accepted) => this.#onAccept(accepted), onError);
    this.#stopAccepting = () => loop.stop();
  }

  /**
   * Listens on `path` with mode 0600.
   * @throws SocketHandoffError `ERR_CHANNEL_IN_USE` (a live receiver holds it), `ERR_CHANNEL_FAILED` (cause: a PosixError).
   */
  static listen(path: string, onConnection: OnUnixConnection, onError: (err: Error) => void): UnixListener {
    const addr = unixSocketAddress(path);
    let lockFd: number;
    try {
      lockFd = takeLock(`${path}.lock`, path);
    } catch (err) {
      if (err instanceof SocketHandoffError) throw err;
      throw new SocketHandoffError('ERR_CHANNEL_FAILED', `cannot listen on ${path}: ${(err as Error).message}`, { cause: err });
    }
    let fd = -1;
    try {
      const replacedStale = removeStaleSocket(path);
      fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) throw posixError('socket', lastErrno());
      if (bind_(fd, addr, addr.length) !== 0) throw posixError('bind', lastErrno(), path);
      // bind() applied the umask; nobody but this uid may connect (the receiver checks SO_PEERCRED as well).
      fs.chmodSync(path, 0o600);
      if (listen(fd, BACKLOG) !== 0) throw posixError('listen', lastErrno(), path);
      return new UnixListener(path, fd, lockFd, replacedStale, onConnection, onError);
    } catch (err) {
      if (fd >= 0) {
        close(fd);
        fs.rmSync(path, { force: true });
      }
      fs.closeSync(lockFd);
      if (err instanceof SocketHandoffError && err.code.startsWith('ERR_')) throw err;
      throw new SocketHandoffError('ERR_CHANNEL_FAILED', `cannot listen on ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Stops accepting, removes the socket file, then releases the lock. Accepted links are not touched. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopAccepting();
    close(this.#fd);
    try {
      if (fs.statSync(this.path).ino === this.#inode) fs.unlinkSync(this.path);
    } catch {
      // already gone
    }
    fs.closeSync(this.#lockFd);
  }

  #onAccept(fd: number): void {
    let peer: PeerCredentials;
    try {
      peer = peerCredentials(fd);
    } catch (err) {
      close(fd);
      this.#onError(err as Error);
      return;
    }
    let link: UnixLink;
    try {
      link = new UnixLink(fd);
    } catch (err) {
      this.#onError(err as Error); // UnixLink closed fd
      return;
    }
    this.#onConnection(link, peer);
  }
}

function takeLock(lockPath: string, path: string): number {
  const lockFd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (flock(lockFd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = lastErrno();
    fs.closeSync(lockFd);
    if (errno === EAGAIN) throw new SocketHandoffError('ERR_CHANNEL_IN_USE', `another receiver is listening on ${path}`);
    throw new SocketHandoffError('ERR_CHANNEL_FAILED', `cannot lock ${lockPath}`, { cause: posixError('flock', errno, lockPath) });
  }
  return lockFd;
}

/** With the lock held, a socket file at `path` belongs to a receiver that died: remove it. */
function removeStaleSocket(path: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return false;
  }
  if (!stat.isSocket()) {
    throw new SocketHandoffError('ERR_CHANNEL_FAILED', `${path} exists and is not a socket; not touching it`);
  }
  fs.unlinkSync(path);
  return true;
}
