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
import { platform } from '../platform';

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
        return HandoverServer.adopt(handle, deferAccept);
      } catch (err) {
        state = 'closed';
        platform().closeSocket(handle);
        throw err;
      }
    },
    close() {
      if (state !== 'open') return;
      state = 'closed';
      platform().closeSocket(handle);
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
  return platform().duplicateListener(raw);
}
