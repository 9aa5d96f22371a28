/**
 * A listening socket this process holds without accepting on it: what a successor keeps of each
 * listener it inherited until its listen(key) asks for it. The channel delivers a listener as a
 * HandoverServer whose accept path starts on a later turn of the event loop; holdListener() runs in
 * the same synchronous step, so no connection is ever taken here before listen(key): it keeps a
 * private copy of the socket (dup on Linux, a token for this very process on Windows) and closes
 * the server. Until listen(key), every connection waits in the backlog for the predecessor.
 */
import { HandoverServer } from '../handover-server';
import { SocketHandoffError } from '../errors';
import { listenerBackend } from '../platform';

export interface HeldListener {
  /** The raw socket: SOCKET on Windows, descriptor on Linux. */
  readonly handle: bigint;
  /** A HandoverServer on it; accepting at once, or only after startAccepting() when `deferAccept`. */
  adopt(deferAccept: boolean): HandoverServer;
  close(): void;
  /** Drops it without closing (someone else already closed the socket). */
  forget(): void;
}

/** Wraps a raw listening socket this process owns. */
export function heldSocket(handle: bigint): HeldListener {
  let state: 'open' | 'adopted' | 'closed' = 'open';
  return {
    handle,
    adopt(deferAccept) {
      if (state !== 'open') throw new SocketHandoffError('ERR_HANDLE_CONSUMED', `this listener was already ${state}`);
      state = 'adopted';
      try {
        return new HandoverServer(handle, false, undefined, deferAccept);
      } catch (err) {
        state = 'closed';
        listenerBackend().closeSocket(handle);
        throw err;
      }
    },
    close() {
      if (state !== 'open') return;
      state = 'closed';
      listenerBackend().closeSocket(handle);
    },
    forget() {
      state = 'closed';
    },
  };
}

/** A private copy of the socket behind `server`, which is closed right after (call synchronously). */
export function holdListener(server: HandoverServer): HeldListener {
  const raw = server.handle;
  if (raw === undefined) throw new SocketHandoffError('ERR_NOT_LISTENING', 'the listener received was already closed');
  try {
    return heldSocket(duplicateListener(raw));
  } finally {
    server.close();
  }
}

function duplicateListener(raw: bigint): bigint {
  if (process.platform === 'win32') {
    // A token made for this process and imported here: a second SOCKET for the same listener.
    const { exportSocket, importSocket } = require('../token-api') as typeof import('../token-api');
    return importSocket(exportSocket(raw, process.pid)).handle;
  }
  const { F_DUPFD_CLOEXEC } = require('../posix/constants') as typeof import('../posix/constants');
  const { fcntl } = require('../posix/libc') as typeof import('../posix/libc');
  const { lastErrno, posixError } = require('../posix/posix-error') as typeof import('../posix/posix-error');
  const copy = fcntl(Number(raw), F_DUPFD_CLOEXEC, 'int', 0);
  if (copy < 0) throw posixError('fcntl', lastErrno(), 'F_DUPFD_CLOEXEC');
  return BigInt(copy);
}
