/**
 * The one interface between the core (token calls, HandoverServer, SocketHandle, the channel) and a
 * platform (src/win32, src/posix, or unsupported-platform.ts). platform.ts picks the implementation,
 * once. A platform deals in raw sockets (bigint: a SOCKET on Windows, a descriptor on Linux) and
 * facts about them; it turns them into Node's own net.Socket/net.Server, but never builds an object
 * of this package: the core does that from what the platform returns.
 */
import type { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type { AddressInfo } from './endpoint-key';
import type { SocketHandoffError } from './errors';

/** Facts about an imported or received socket, read from the OS right after the import. */
export interface SocketHandleInfo {
  /** The raw socket: a SOCKET on Windows, a descriptor on Linux. */
  handle: bigint;
  /** Address family, e.g. AF_INET (2), AF_INET6 (23 on Windows, 10 on Linux). */
  family: number;
  /** Socket type, e.g. SOCK_STREAM (1) or SOCK_DGRAM (2). */
  type: number;
  /** Protocol, e.g. IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  protocol: number;
  /** True when the socket is listening (SO_ACCEPTCONN). */
  listening: boolean;
}

/** How the core names an open Node socket or server whose raw socket the platform must find (Windows hides it). */
export interface NodeSocketIdentity {
  /** The Node handle's async id (`_handle.getAsyncId()`), when Node has one. */
  readonly asyncId: number | undefined;
  /** Its address key (endpoint-key.ts), read from the OS on each call. */
  key(): string;
}

/** A running accept path on a raw listening socket (HandoverServer's). */
export interface AcceptLoop {
  /** Stops accepting; resolves once nothing of this process is pending on the socket. The socket stays open. */
  stop(): Promise<void>;
  /** As net.Server's ref()/unref(): whether the accept path alone keeps the event loop alive. */
  ref(): void;
  unref(): void;
}

/** A descriptor that arrived with a frame (Linux); closed unless someone takes it. */
export interface ReceivedDescriptor {
  readonly fd: number;
  /** Takes ownership of the descriptor (once). */
  take(): number;
  close(): void;
}

/**
 * A connected byte stream between sender and receiver: a net.Socket over a named pipe on Windows,
 * a Unix socket read with recvmmsg() on Linux. Emits 'data' (chunk, descriptors?, descriptorsLost?),
 * 'error' and 'close'. `descriptorsLost` says that descriptors sent with these bytes could not be
 * installed in this process (Linux: MSG_CTRUNC at the descriptor limit).
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
  /**
   * Only where the link polls for itself (Linux): does not wake up for what the peer writes during
   * the next `ms` milliseconds, then reads all of it at once and watches again.
   */
  deferReads?(ms: number): void;
  write(data: Buffer): boolean;
  /**
   * Only where the link reads in bursts (Linux): it emits 'readEnd' after each burst of 'data'
   * events, once the writes made during the burst have gone to the OS (held until then, and sent
   * together).
   */
  readonly endsReadBursts?: true;
  /** Only where writes are queued (Windows): holds writes until uncork(), which sends them as one. */
  cork?(): void;
  uncork?(): void;
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

/**
 * How a socket rides in a `socket` frame on Windows (docs/protocol.md): 'token' (base64 of
 * WSAPROTOCOL_INFOW, the default) or 'mapping' (the name of a file mapping holding
 * WSAPROTOCOL_INFOA, PHP's form, sent when the receiver's hello asks for it).
 */
export type SocketForm = 'token' | 'mapping';

/** The platform's half of the hand-off channel: where it lives, who the peer is, how a socket travels. */
export interface PlatformTransport {
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
   * `form` is what the receiver asked for in its hello (Windows: 'mapping', PHP's form; Linux
   * ignores it). `settle()`, if given, must run once the hand-off is settled either way (ack,
   * nack, timeout, give-back): it frees what the form needed until the receiver had read it.
   */
  attach(target: net.Socket | net.Server, peerPid: number, form?: SocketForm): { fields: Record<string, unknown>; descriptor?: number; release: () => void; settle?: () => void };
  /** As attach(), for a raw socket this package accepted itself (HandoverServer's `sendTo`): nothing to hold or undo. */
  attachRaw(socket: bigint, peerPid: number, form?: SocketForm): { fields: Record<string, unknown>; descriptor?: number; settle?: () => void };
  /**
   * Takes the socket a `socket` frame (and what came with it) carries: this process owns it now.
   * The frame has passed the channel's checks (messages.ts): `token` and `mapping` are strings if present.
   */
  detach(message: { id: number; token?: string; mapping?: string }, descriptors: ReceivedDescriptor[]): SocketHandleInfo;
}

/** PHP's named file mappings (Windows). */
export interface FileMappings {
  createMapping(name: string, bytes: Buffer): bigint;
  readMapping(name: string, size: number): Buffer;
  closeMapping(map: bigint): void;
  /** WSADuplicateSocketA for `targetPid` into a new mapping: its name, and this process's handle of it (close it once imported). */
  exportSocket(socket: bigint, targetPid: number): { name: string; map: bigint };
}

/** Everything the core asks of a platform. Calls a platform does not have throw `ERR_UNSUPPORTED_PLATFORM`. */
export interface Platform {
  /** 'win32', 'linux', or the name of a platform without sockets to hand over. */
  readonly name: string;

  /** The raw socket behind a Node TCP handle (Windows: Node hides it). @throws `ERR_SOCKET_NOT_FOUND`, `ERR_SOCKET_CLOSED`. */
  findNodeSocket(identity: NodeSocketIdentity): bigint;
  /** WSADuplicateSocketW for `targetPid`: the 628 bytes of WSAPROTOCOL_INFOW. */
  duplicateSocket(socket: bigint, targetPid: number): Buffer;
  /** WSASocketW from 628 bytes, or WSASocketA from 372; the caller owns the new socket. */
  importSocket(protocolInfo: Buffer): SocketHandleInfo;
  /** ioctlsocket(FIONBIO): blocking mode is socket state, shared by every process holding it. */
  setBlocking(socket: bigint, blocking: boolean): void;
  /** PHP's file mappings; loaded on first use. */
  fileMappings(): FileMappings;
  /** The system's text for an error number (socket_strerror), or '' when it has none. */
  errorText(errno: number): string;

  /** closesocket() on Windows, close() on Linux. */
  closeSocket(socket: bigint): void;
  /** A listening raw socket as an already listening net.Server (libuv accepts on it). The socket stays open if this throws. */
  adoptServer(socket: bigint): net.Server;
  /** A connected raw socket as a net.Socket. The socket stays open if this throws. */
  adoptSocket(socket: bigint, allowHalfOpen: boolean): net.Socket;

  /** A listening TCP socket made outside libuv (HandoverServer's); every failure closes what it opened. */
  listenSocket(options: { host: string; port: number; backlog: number }): bigint;
  /** Its local address. */
  localAddress(socket: bigint): AddressInfo | undefined;
  /** Starts the controlled accept path; accepted raw sockets go to `onAccept`, which owns them. */
  acceptLoop(socket: bigint, onAccept: (socket: bigint) => void, onError: (err: SocketHandoffError) => void): AcceptLoop;

  /** The channel's platform half. */
  /** A second raw socket for the same listener, owned by this process: a dup on Linux, a token made for this process and imported on Windows. */
  duplicateListener(socket: bigint): bigint;
  /**
   * Holds the machine-wide lock `name` for this process; its release, or undefined when another
   * process holds it. Windows: a Local\\ named mutex (Wine lets a second process listen on a named
   * pipe already listened on). Linux: nothing to take, the channel's flock is the lock.
   */
  takeNamedLock(name: string): (() => void) | undefined;
  /**
   * A descriptor inherited from systemd (socket activation): made close-on-exec and non-blocking,
   * then its facts; closed when it is not an IPv4/IPv6 socket. Linux only.
   */
  inheritedSocket(fd: number): SocketHandleInfo;
  /** sd_notify(3): one datagram with `state` to the AF_UNIX socket `target` ($NOTIFY_SOCKET). Linux only. */
  notifySystemd(target: string, state: string): void;
  channelTransport(): PlatformTransport;
}
