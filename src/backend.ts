/** The platform side of the token calls. One module (platform.ts) picks the implementation. */
import type { SocketHandle } from './socket-handle';

export interface TokenBackend {
  /** The raw OS socket behind a Node TCP handle, found by its address key. */
  findSocketByKey(key: string): bigint;
  /** WSADuplicateSocketW for `targetPid`: the 628 bytes of WSAPROTOCOL_INFOW. */
  duplicateSocket(socket: bigint, targetPid: number): Buffer;
  /** WSASocketW from the 628 bytes; the result owns the new SOCKET. */
  importSocket(protocolInfo: Buffer): SocketHandle;
}
