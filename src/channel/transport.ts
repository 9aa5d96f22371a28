/**
 * What the channel needs from a platform. The frames and the acknowledgement logic are the same
 * everywhere; only where the channel lives, who the peer is, and how a socket rides along with a
 * frame differ: a WSADuplicateSocketW token in the frame on Windows, the descriptor itself in the
 * ancillary data (SCM_RIGHTS) of the frame's first byte on Linux.
 */
import type { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type { SocketHandle } from '../socket-handle';
import type { SocketMessage } from './messages';

/** A descriptor that arrived with a frame; closed unless the transport takes it. */
export interface ReceivedDescriptor {
  readonly fd: number;
  /** Takes ownership of the descriptor (once). */
  take(): number;
  close(): void;
}

/**
 * A connected byte stream between sender and receiver: a net.Socket over a named pipe on Windows.
 * Emits 'data' (chunk, descriptors?, descriptorsLost?), 'error' and 'close'. `descriptorsLost`
 * says that descriptors sent with these bytes could not be installed in this process (Linux:
 * MSG_CTRUNC at the descriptor limit).
 */
export interface ChannelLink extends EventEmitter {
  readonly destroyed: boolean;
  readonly writable: boolean;
  readonly closed: boolean;
  /** Bytes written that the OS has not taken yet (0: all of it is on its way to the peer). */
  readonly writableLength: number;
  /** Only where the transport can: reads now, synchronously, what the peer has already written. */
  readNow?(): void;
  /** Only where the transport can: stops the peer writing more, then reads synchronously what it wrote. */
  drain?(): void;
  write(data: Buffer): boolean;
  /** Only on transports that carry descriptors: a copy of `fd` rides with the first byte of `data`. */
  writeWithDescriptor?(data: Buffer, fd: number): boolean;
  end(): unknown;
  end(data: Buffer): unknown;
  destroy(): unknown;
}

/** What the OS says about the peer of an accepted connection. */
export interface ChannelPeer {
  pid?: number;
  uid?: number;
  /** Set when the peer is on another machine (Windows named pipes can be remote). */
  remoteComputer?: string;
}

export interface ChannelListener {
  close(): Promise<void>;
}

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
  /** Turns a received `socket` frame (and what came with it) into a socket this process owns. */
  detach(message: SocketMessage, descriptors: ReceivedDescriptor[]): SocketHandle;
}
