/**
 * What the channel needs from a platform. The frames and the acknowledgement logic are the same
 * everywhere; only where the channel lives and how a socket rides along with a frame differ
 * (a WSADuplicateSocketW token on Windows; SCM_RIGHTS on POSIX, planned).
 */
import type * as net from 'node:net';
import type { SocketHandle } from '../socket-handle';

export interface HandoffTransport {
  /** The address of the channel called `name` (a named pipe path on Windows). */
  endpoint(name: string): string;
  /**
   * Makes `target` travel to process `peerPid`: returns the fields to put in the `socket` frame, and
   * `release()` to undo any side effect (reading held) when the hand-off fails.
   */
  attach(target: net.Socket | net.Server, peerPid: number): { fields: { token: string }; release: () => void };
  /** Turns the fields of a received `socket` frame back into a socket this process owns. */
  detach(fields: { token: string }): SocketHandle;
  /**
   * What the OS says about the peer of a connection the receiver just accepted (called
   * synchronously in 'connection'): its pid, and whether it is on another machine.
   */
  inspectPeer(): { pid?: number; remoteComputer?: string };
}
