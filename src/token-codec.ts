/**
 * Socket tokens: a WSAPROTOCOL_INFOW (628 bytes, see protocol-info.ts) in standard base64.
 *
 * These are the same 628 bytes that Python's `socket.share()` returns and that .NET's
 * `SocketInformation.ProtocolInformation` holds, so a token can cross between runtimes:
 * base64-encode those bytes on the other side, or decode a token here and hand them over.
 *
 * Nothing here touches the OS; tokens can be built and checked on any platform.
 */
import { isAnyArrayBuffer, isUint8Array } from 'node:util/types';
import { InvalidTokenError, describe, invalidArgType, invalidArgValue } from './errors';
import { PROTOCOL_INFO_SIZE, ProtocolInfo, protocolInfoFromBytes, protocolInfoToBytes } from './protocol-info';

/**
 * Encode a ProtocolInfo, or the raw 628 bytes of a WSAPROTOCOL_INFOW, as a base64 token.
 * Raw bytes are validated like {@link protocolInfoFromBytes} but encoded unchanged, stack
 * garbage after the szProtocol terminator included, so a token from Windows re-encodes to itself.
 * @throws {SocketHandoffError} `ERR_INVALID_ARG_TYPE` if the argument is neither an object nor a
 *   Uint8Array, or a ProtocolInfo member has the wrong type; `ERR_INVALID_ARG_VALUE` for bytes that
 *   are not 628 long or a member out of range (the message names the member).
 * @throws {InvalidTokenError} `ERR_INVALID_TOKEN` for 628 bytes whose content is not a valid struct.
 * @example const token = encodeProtocolInfo(sharedBytes); // e.g. the bytes of Python socket.share()
 */
export function encodeProtocolInfo(infoOrBytes: ProtocolInfo | Uint8Array): string {
  if (isUint8Array(infoOrBytes)) return encodeBytes(infoOrBytes);
  if (isInfoLike(infoOrBytes)) return protocolInfoToBytes(infoOrBytes).toString('base64');
  throw invalidArgType('infoOrBytes', 'a ProtocolInfo object, a Buffer or a Uint8Array', infoOrBytes);
}

/**
 * Strictly decode a base64 token to its 628 bytes (the struct content is not checked here).
 * Surrounding ASCII whitespace, such as the newline a pipe adds, is ignored.
 * @throws {InvalidTokenError} `ERR_INVALID_TOKEN` if the token is not a string, is empty, is not
 *   canonical standard base64 (alphabet, `=` padding, inner whitespace), or does not decode to
 *   exactly 628 bytes. The message says which.
 * @example const bytes = tokenToBytes(process.argv[2]); // bytes.length === 628
 */
export function tokenToBytes(token: unknown): Buffer {
  if (typeof token !== 'string') throw new InvalidTokenError(`expected a base64 string, got ${describe(token)}`);
  const start = skipWhitespace(token, 0, 1);
  const end = skipWhitespace(token, token.length - 1, -1) + 1;
  if (start >= end) {
    throw new InvalidTokenError(token === '' ? 'the token is empty' : 'the token is only whitespace');
  }
  const text = token.slice(start, end);
  const problem = base64Problem(text, start);
  if (problem !== undefined) throw new InvalidTokenError(`not valid base64: ${problem}`);
  const bytes = Buffer.from(text, 'base64');
  // Node's decoder ignores non-zero leftover bits, so "AB==" and "AA==" would decode alike;
  // insisting on the canonical form keeps one struct = one token.
  if (bytes.toString('base64') !== text) {
    throw new InvalidTokenError('not valid base64: non-canonical (unused bits of the last group are not zero)');
  }
  if (bytes.length !== PROTOCOL_INFO_SIZE) {
    throw new InvalidTokenError(`${PROTOCOL_INFO_SIZE} bytes expected, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * Decode a base64 token into a ProtocolInfo.
 * @throws {InvalidTokenError} `ERR_INVALID_TOKEN` for any malformed token: bad base64, a length
 *   other than 628 bytes, ChainLen outside 0..7, or a bad szProtocol.
 * @example decodeProtocolInfo(token).iAddressFamily; // 2 (AF_INET)
 */
export function decodeProtocolInfo(token: string): ProtocolInfo {
  return protocolInfoFromBytes(tokenToBytes(token));
}

function encodeBytes(bytes: Uint8Array): string {
  if (bytes.byteLength !== PROTOCOL_INFO_SIZE) {
    const allowed = `exactly ${PROTOCOL_INFO_SIZE} bytes (one WSAPROTOCOL_INFOW), not ${bytes.byteLength}`;
    throw invalidArgValue('infoOrBytes', allowed, bytes);
  }
  protocolInfoFromBytes(bytes); // validation only; the original bytes are what gets encoded
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Plain objects go on to member-by-member validation; arrays and binary data are type errors. */
function isInfoLike(value: unknown): value is ProtocolInfo {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !isAnyArrayBuffer(value)
  );
}

/** Reason `text` is not well-formed standard base64, or undefined. `start` maps indices back to the token. */
function base64Problem(text: string, start: number): string | undefined {
  let dataEnd = text.length;
  while (dataEnd > 0 && text[dataEnd - 1] === '=') dataEnd--;
  for (let i = 0; i < dataEnd; i++) {
    const code = text.charCodeAt(i);
    if (!isBase64Char(code)) return describeBadChar(text, i, start + i);
  }
  const padding = text.length - dataEnd;
  if (padding > 2) return `${padding} "=" padding characters, at most 2 allowed`;
  if (text.length % 4 !== 0) {
    return `length ${text.length} is not a multiple of 4 (missing or extra "=" padding)`;
  }
  return undefined;
}

function describeBadChar(text: string, i: number, index: number): string {
  const char = String.fromCodePoint(text.codePointAt(i) ?? 0);
  if (isAsciiWhitespace(text.charCodeAt(i))) return `whitespace inside the token at index ${index}`;
  if (char === '=') return `"=" at index ${index}; padding may only end the token`;
  const hint = char === '-' || char === '_' ? ' (base64url is not accepted)' : '';
  return `${JSON.stringify(char)} at index ${index} is not in the standard base64 alphabet${hint}`;
}

function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2b || // +
    code === 0x2f // /
  );
}

/** Only ASCII whitespace: String#trim would also eat U+00A0, U+FEFF etc., which no pipe adds. */
function isAsciiWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** First index from `i` in direction `step` that is not ASCII whitespace (may fall off either end). */
function skipWhitespace(text: string, i: number, step: 1 | -1): number {
  while (i >= 0 && i < text.length && isAsciiWhitespace(text.charCodeAt(i))) i += step;
  return i;
}
