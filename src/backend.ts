/** The platform side of the token calls. One module (platform.ts) picks the implementation. */
import type * as net from 'node:net';
import type { AddressInfo } from './endpoint-key';
import type { SocketHandoffError } from './errors';
import type { SocketHandle } from './socket-handle';

/** What HandoverServer needs: a listener and an accept path outside libuv (Windows and Linux). */
export interface ListenerBackend {
  /** A listening TCP socket made outside libuv (for HandoverServer). */
  listenSocket(options: { host: string; port: number; backlog: number }): bigint;
  /** Its local address. */
  localAddress(socket: bigint): AddressInfo | undefined;
  /** Starts the controlled accept path; returns a function that stops it (resolves when idle). */
  acceptLoop(socket: bigint, onAccept: (socket: bigint) => void, onError: (err: SocketHandoffError) => void): () => Promise<void>;
  /** Wraps an accepted raw socket as a net.Socket (closing it if that fails). */
  adoptAccepted(socket: bigint, allowHalfOpen: boolean): net.Socket;
  /** closesocket() / close(). */
  closeSocket(socket: bigint): void;
}

export interface TokenBackend extends ListenerBackend {
  /** The raw OS socket behind a Node TCP handle, found by its address key. */
  findSocketByKey(key: string): bigint;
  /** WSADuplicateSocketW for `targetPid`: the 628 bytes of WSAPROTOCOL_INFOW. */
  duplicateSocket(socket: bigint, targetPid: number): Buffer;
  /** WSADuplicateSocketA for `targetPid`: the 372 bytes of WSAPROTOCOL_INFOA (PHP's variant). */
  duplicateSocketAnsi(socket: bigint, targetPid: number): Buffer;
  /** WSASocketW from 628 bytes, or WSASocketA from 372; the result owns the new SOCKET. */
  importSocket(protocolInfo: Buffer): SocketHandle;
  /** ioctlsocket(FIONBIO): blocking mode is socket state, shared by every process holding it. */
  setBlocking(socket: bigint, blocking: boolean): void;
}
