/**
 * What the channel needs from a platform. The frames and the acknowledgement logic are the same
 * everywhere; only where the channel lives, who the peer is, and how a socket rides along with a
 * frame differ: a WSADuplicateSocketW token in the frame on Windows, the descriptor itself in the
 * ancillary data (SCM_RIGHTS) of the frame's first byte on Linux. The platform's half
 * (win32/pipe-transport.ts, posix/unix-socket-transport.ts) returns raw sockets; the SocketHandle
 * a receiver adopts is built here.
 */
import type * as net from 'node:net';
import { platform } from '../platform';
import type { ChannelLink, ChannelListener, ChannelPeer, ReceivedDescriptor } from '../platform-api';
import { socketHandleFrom, type SocketHandle } from '../socket-handle';
import type { SocketMessage } from './messages';

export type { ChannelLink, ChannelListener, ChannelPeer, ReceivedDescriptor };

export interface HandoffTransport {
  /**
   * True where protocol 2 is offered: the link can read synchronously (readNow) what the peer
   * wrote, and writes reach the peer's queue synchronously, so a deadline on the shared clock
   * decides every hand-off one way on both ends (docs/protocol.md).
   */
  readonly deliverOnReceipt: boolean;
  /** The address of the channel called `name` (a named pipe path on Windows, a socket path on Linux). */
  endpoint(name: string): string;
  /**
   * Listens on `endpoint`; `onConnection` runs for each sender that connects, with what the OS says about it.
   * @throws (rejects) `ERR_CHANNEL_IN_USE`, `ERR_CHANNEL_FAILED`.
   */
  listen(endpoint: string, onConnection: (link: ChannelLink, peer: ChannelPeer) => void, onError: (err: Error) => void): Promise<ChannelListener>;
  /** Connects to a receiver. @throws (rejects) `ERR_CHANNEL_UNAVAILABLE`, `ERR_FOREIGN_UID`. */
  connect(endpoint: string, timeoutMs: number): Promise<ChannelLink>;
  /**
   * Makes `target` travel to process `peerPid`: the fields to put in the `socket` frame, the
   * descriptor to attach (Linux), and `release()` to undo side effects (reading held) if it fails.
   */
  attach(target: net.Socket | net.Server, peerPid: number): { fields: Record<string, unknown>; descriptor?: number; release: () => void };
  /** As attach(), for a raw socket this package accepted itself (HandoverServer's `sendTo`). */
  attachRaw(socket: bigint, peerPid: number): { fields: Record<string, unknown>; descriptor?: number };
  /** Turns a received `socket` frame (and what came with it) into a socket this process owns. */
  detach(message: SocketMessage, descriptors: ReceivedDescriptor[]): SocketHandle;
}

/**
 * The channel's transport on this platform.
 * @throws SocketHandoffError `ERR_UNSUPPORTED_PLATFORM` off Windows and Linux (macOS is not verified yet).
 */
export function channelTransport(): HandoffTransport {
  const raw = platform().channelTransport();
  return {
    deliverOnReceipt: raw.deliverOnReceipt,
    endpoint: (name) => raw.endpoint(name),
    listen: (endpoint, onConnection, onError) => raw.listen(endpoint, onConnection, onError),
    connect: (endpoint, timeoutMs) => raw.connect(endpoint, timeoutMs),
    attach: (target, peerPid) => raw.attach(target, peerPid),
    attachRaw: (socket, peerPid) => raw.attachRaw(socket, peerPid),
    detach: (message, descriptors) => socketHandleFrom(raw.detach(message, descriptors)),
  };
}
