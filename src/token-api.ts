/**
 * exportSocket/importSocket: the token calls, PHP's socket_wsaprotocol_info_export/_import for Node.
 * Arguments are validated here, on every platform; the platform backend does the rest.
 */
import * as net from 'node:net';
import { invalidArgType, invalidArgValue, SocketHandoffError } from './errors';
import { controlledHandle, heldSocket } from './node-socket';
import { platform } from './platform';
import { protocolInfoFromBytes } from './protocol-info';
import { SocketHandle, socketHandleFrom } from './socket-handle';
import { encodeProtocolInfo, tokenToBytes } from './token-codec';

/** Anything exportSocket accepts. */
export type ExportableSocket = net.Socket | net.Server | SocketHandle | bigint | number;

const MAX_PID = 0xffffffff;
const MAX_SOCKET = 0xffffffffffffffffn;

function validatePid(targetPid: unknown): number {
  if (typeof targetPid !== 'number') throw invalidArgType('targetPid', 'a number', targetPid);
  if (!Number.isInteger(targetPid) || targetPid < 1 || targetPid > MAX_PID) {
    throw invalidArgValue('targetPid', 'a positive 32-bit integer (1 to 4294967295)', targetPid);
  }
  return targetPid;
}

function rawSocketValue(value: bigint | number): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw invalidArgValue('socket', 'a SOCKET value: a non-negative integer', value);
  }
  const socket = BigInt(value);
  if (socket < 0n || socket >= MAX_SOCKET) {
    throw invalidArgValue('socket', 'a SOCKET value between 0 and 2^64-2 (2^64-1 is INVALID_SOCKET)', value);
  }
  return socket;
}

/** Options of exportSocket(). */
export interface ExportOptions {
  /**
   * Put the socket in blocking mode before it is duplicated. Blocking mode is socket state, shared
   * by every process that holds the socket, and Node's sockets are non-blocking; importers that
   * use blocking calls (PHP, Python's `socket.fromshare`, plain C) need this. Destroy this
   * process's copy afterwards: Node must not use a blocking socket. Default false.
   */
  blocking?: boolean;
}

/**
 * The raw SOCKET behind anything exportSocket accepts; for a net.Socket, Node stops reading it
 * first, and `release()` undoes that. Arguments are checked. @internal
 */
export function rawSocketOf(socket: ExportableSocket): { raw: bigint; release: () => void } {
  const none = () => undefined;
  if (socket instanceof SocketHandle) {
    if (socket.state !== 'open') {
      throw new SocketHandoffError('ERR_HANDLE_CONSUMED', `exportSocket(): this SocketHandle was already ${socket.state}`);
    }
    return { raw: socket.handle, release: none };
  }
  if (typeof socket === 'bigint' || typeof socket === 'number') return { raw: rawSocketValue(socket), release: none };
  if (!(socket instanceof net.Socket) && !(socket instanceof net.Server)) {
    throw invalidArgType('socket', 'a net.Socket, a net.Server, a SocketHandle or a SOCKET value (bigint or number)', socket);
  }
  const controlled = controlledHandle(socket); // a HandoverServer
  if (controlled !== undefined) return { raw: controlled, release: none };
  const { identity, release } = heldSocket(socket);
  try {
    return { raw: platform().findNodeSocket(identity), release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Duplicates `raw` for `pid` with `duplicate`, in blocking mode if asked; on failure the socket's
 * mode is restored and `release()` runs. @internal
 */
export function duplicateRaw<T>(raw: bigint, release: () => void, blocking: boolean, duplicate: (raw: bigint) => T): T {
  const backend = platform();
  try {
    if (blocking) backend.setBlocking(raw, true);
    try {
      return duplicate(raw);
    } catch (err) {
      if (blocking) backend.setBlocking(raw, false);
      throw err;
    }
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Duplicates a socket for process `targetPid` (WSADuplicateSocketW) and returns the token: base64
 * of the 628-byte WSAPROTOCOL_INFOW, the same bytes Python's `socket.share(pid)` returns.
 *
 * A `net.Socket` stops reading first: bytes that arrive afterwards stay in the kernel for the
 * importer. Bytes Node had already read (`socket.readableLength`) are not in the token. This process
 * keeps its own copy; `destroy()` it (never `end()`, which shuts the shared connection down).
 *
 * @param socket a connected `net.Socket`, a listening `net.Server`, an open `SocketHandle`, or a raw SOCKET (any type, UDP too).
 * @param targetPid the process that will call importSocket().
 * @param options `blocking: true` for importers that use blocking calls (see ExportOptions).
 * @throws SocketHandoffError `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_SOCKET_CLOSED`, `ERR_NOT_CONNECTED`,
 *   `ERR_NOT_LISTENING`, `ERR_UNSUPPORTED_SOCKET_TYPE`, `ERR_SOCKET_NOT_FOUND`, `ERR_HANDLE_CONSUMED`, `ERR_UNSUPPORTED_PLATFORM`
 * @throws WinsockError `WSAE…` when WSADuplicateSocketW fails (e.g. `WSAEINVAL` for a pid that does not exist).
 * @example const token = exportSocket(server, child.pid);
 */
export function exportSocket(socket: ExportableSocket, targetPid: number, options: ExportOptions = {}): string {
  const pid = validatePid(targetPid);
  const blocking = checkExportOptions(options);
  const backend = platform();
  const { raw, release } = rawSocketOf(socket);
  return encodeProtocolInfo(duplicateRaw(raw, release, blocking, (s) => backend.duplicateSocket(s, pid)));
}

function checkExportOptions(options: unknown): boolean {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options);
  const { blocking } = options as ExportOptions;
  if (blocking !== undefined && typeof blocking !== 'boolean') throw invalidArgType('options.blocking', 'a boolean', blocking);
  return blocking === true;
}

/**
 * Creates this process's socket from a token (WSASocketW with FROM_PROTOCOL_INFO, overlapped,
 * not inheritable). Adopt the result with `toNetServer()`/`toNetSocket()`, or `close()` it.
 * @throws SocketHandoffError `ERR_INVALID_TOKEN` for anything that is not a 628-byte base64 token; `ERR_UNSUPPORTED_PLATFORM` off Windows
 *   (on Linux the message points to the channel).
 * @throws WinsockError `WSAE…` when Windows refuses the token (e.g. `WSAEINVAL`).
 * @example const server = importSocket(token).toNetServer((socket) => socket.end('hello\n'));
 */
export function importSocket(token: string): SocketHandle {
  const bytes = tokenToBytes(token);
  // Structural checks first: "ChainLen 9 out of range" says more than the provider's WSAESOCKTNOSUPPORT.
  protocolInfoFromBytes(bytes);
  return socketHandleFrom(platform().importSocket(bytes));
}
