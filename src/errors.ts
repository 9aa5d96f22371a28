/**
 * Every error this package throws carries a stable `code`, the way Node's own errors do.
 * Codes, once published, never change; docs/errors.md lists them all.
 */

/** Codes of errors raised by this package itself (Winsock failures use WSAE… names instead). */
export type SocketHandoffErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_INVALID_MAPPING'
  | 'ERR_UNSUPPORTED_PLATFORM'
  | 'ERR_SOCKET_NOT_FOUND'
  | 'ERR_SOCKET_CLOSED'
  | 'ERR_HANDLE_CONSUMED'
  | 'ERR_NOT_LISTENING'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_UNSUPPORTED_SOCKET_TYPE'
  | 'ERR_BINDING_UNAVAILABLE'
  | 'ERR_NOT_MAIN_THREAD'
  | 'ERR_MALFORMED_FRAME'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_UNEXPECTED_MESSAGE'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_CHANNEL_AUTH'
  | 'ERR_CHANNEL_UNAVAILABLE'
  | 'ERR_CHANNEL_CLOSED'
  | 'ERR_CHANNEL_IN_USE'
  | 'ERR_CHANNEL_FAILED'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_HANDOFF_REFUSED'
  | 'ERR_HANDOFF_DECLINED'
  | 'ERR_HANDOFF_TIMEOUT'
  | 'ERR_RECEIVER_GONE'
  | 'ERR_ONSOCKET_THREW'
  | 'ERR_REMOTE_CLIENT'
  | 'ERR_PID_MISMATCH'
  | 'ERR_FOREIGN_UID'
  | 'ERR_NO_DESCRIPTOR'
  | 'ERR_DESCRIPTORS_TRUNCATED'
  | 'ERR_RECEIVER_BUSY'
  | 'ERR_HANDOFF_LATE'
  | 'ERR_SERVER_NOT_RUNNING'
  | 'ERR_SERVER_ALREADY_LISTEN'
  | 'ERR_UPGRADE_IN_PROGRESS'
  | 'ERR_UPGRADE_FAILED'
  | 'ERR_UPGRADE_TIMEOUT'
  | 'ERR_NOT_READY'
  | 'ERR_RETIRED'
  | 'ERR_PREDECESSOR_GONE'
  | 'ERR_NAME_UNAVAILABLE'
  | 'ERR_PID_FILE'
  | 'ERR_SYSTEMD_FDS';

/**
 * OS error codes that mean "out of descriptors, handles or buffers right now", not "this input is
 * bad": a receiver that meets one refuses that hand-off with ERR_RECEIVER_BUSY and keeps serving.
 */
export const RESOURCE_SHORTAGE_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'WSAEMFILE', 'WSAENOBUFS']);

/** `code` of a WinsockError: the SDK name (`'WSAEINVAL'`, `'ERROR_ALREADY_EXISTS'`), or `WIN32_ERROR_<n>` for a number without one. */
export type WinsockErrorCode = `WSA${string}` | `ERROR_${string}` | `WIN32_ERROR_${number}`;

/** `code` of a PosixError: the errno name (`'EADDRINUSE'`), or `E<n>` for a number Node has no name for. */
export type PosixErrorCode = `E${string}`;

/** Every `code` an error of this package can carry. */
export type ErrorCode = SocketHandoffErrorCode | WinsockErrorCode | PosixErrorCode;

/**
 * A code that arrived from the other end of the channel (a nack or an error frame), passed on as
 * the peer sent it: a peer that speaks docs/protocol.md sends only codes of docs/errors.md.
 */
export function peerCode(code: string): ErrorCode {
  return code as ErrorCode;
}

/** Base class of every error this package throws. `code` is stable; `message` is for people. */
export class SocketHandoffError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'SocketHandoffError';
  }
}

/** A token that is not a valid base64 WSAPROTOCOL_INFOW. `code` is always `ERR_INVALID_TOKEN`. */
export class InvalidTokenError extends SocketHandoffError {
  declare readonly code: 'ERR_INVALID_TOKEN';

  constructor(reason: string) {
    super('ERR_INVALID_TOKEN', `Invalid socket token: ${reason}`);
  }

  override get name(): string {
    return 'InvalidTokenError';
  }
}

/** A failed OS call, shaped like Node's errnoException: `code`, `errno`, `syscall`. */
abstract class SystemCallError extends SocketHandoffError {
  readonly errno: number;
  readonly syscall: string;

  constructor(syscall: string, errno: number, code: WinsockErrorCode | PosixErrorCode, systemText: string) {
    super(code, `${syscall} ${code} (${errno}): ${systemText}`);
    this.errno = errno;
    this.syscall = syscall;
  }
}

/**
 * A failed Winsock or Win32 call: `code` is the SDK name (`'WSAEINVAL'`), `errno` the number
 * (10022), `syscall` the function.
 */
export class WinsockError extends SystemCallError {
  declare readonly code: WinsockErrorCode;

  constructor(syscall: string, errno: number, code: WinsockErrorCode, systemText: string) {
    super(syscall, errno, code, systemText);
  }

  override get name(): string {
    return 'WinsockError';
  }
}

/**
 * A failed libc call on Linux: `code` is the errno name (`'EACCES'`), `errno` the positive number
 * (13), `syscall` the function.
 */
export class PosixError extends SystemCallError {
  declare readonly code: PosixErrorCode;

  constructor(syscall: string, errno: number, code: PosixErrorCode, systemText: string) {
    super(syscall, errno, code, systemText);
  }

  override get name(): string {
    return 'PosixError';
  }
}

/** Throw a TypeError-like coded error for an argument of the wrong type. */
export function invalidArgType(name: string, expected: string, actual: unknown): SocketHandoffError {
  return new SocketHandoffError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
  );
}

/** A coded error for an argument of the right type but an unacceptable value. */
export function invalidArgValue(name: string, allowed: string, actual: unknown): SocketHandoffError {
  return new SocketHandoffError(
    'ERR_INVALID_ARG_VALUE',
    `The "${name}" argument must be ${allowed}. Received ${describe(actual)}`,
  );
}

/** Short, safe description of a value for error messages (never dumps large buffers). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}${typeof value === 'bigint' ? 'n' : ''}`;
    case 'function':
      return `function ${value.name || '<anonymous>'}`;
    default: {
      const ctor = (value as object).constructor;
      return `an instance of ${ctor && ctor.name ? ctor.name : 'Object'}`;
    }
  }
}
