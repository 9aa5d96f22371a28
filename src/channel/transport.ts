/**
 * What the channel needs from a platform. The frames and the acknowledgement logic are the same
 * everywhere; only where the channel lives, who the peer is, and how a socket rides along with a
 * frame differ: a WSADuplicateSocketW token in the frame on Windows, the descriptor itself in the
 * ancillary data (SCM_RIGHTS) of the frame's first byte on Linux. The platform's half
 * (win32/pipe-transport.ts, posix/unix-socket-transport.ts) returns raw sockets; the SocketHandle
 * a receiver adopts is built here.
 */
import { platform } from '../platform';
import type { ChannelLink, ChannelListener, ChannelPeer, PlatformTransport, ReceivedDescriptor, SocketForm } from '../platform-api';
import { socketHandleFrom, type SocketHandle } from '../socket-handle';
import type { SocketMessage } from './messages';

export type { ChannelLink, ChannelListener, ChannelPeer, ReceivedDescriptor, SocketForm };

/** The platform's transport as the channel uses it: the same calls, with `detach` giving a SocketHandle. */
export interface HandoffTransport extends Omit<PlatformTransport, 'detach'> {
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
    attach: (target, peerPid, form) => raw.attach(target, peerPid, form),
    attachRaw: (socket, peerPid, form) => raw.attachRaw(socket, peerPid, form),
    detach: (message, descriptors) => socketHandleFrom(raw.detach(message, descriptors)),
  };
}
