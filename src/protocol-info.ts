/**
 * WSAPROTOCOL_INFOW as raw bytes <-> a plain object, with no platform calls, so tokens can be
 * inspected, built and validated on any OS. Base64 lives in token-codec.ts.
 *
 * The struct is 628 bytes on both x64 and x86 (it holds no pointers), all integers little-endian.
 */
import { isUint8Array } from 'node:util/types';
import { InvalidTokenError, invalidArgType, invalidArgValue } from './errors';

/** sizeof(WSAPROTOCOL_INFOW), identical on x86 and x64. */
export const PROTOCOL_INFO_SIZE = 628;

/** MAX_PROTOCOL_CHAIN: ChainEntries always has this many slots, ChainLen never exceeds it. */
const MAX_PROTOCOL_CHAIN = 7;

/** WSAPROTOCOL_LEN: szProtocol holds at most 255 characters plus the terminating NUL. */
const WSAPROTOCOL_LEN = 255;

const UINT32_MAX = 0xffffffff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

const member = (offset: number, size: number) => Object.freeze({ offset, size });

/**
 * Byte offset and size of every WSAPROTOCOL_INFOW member, keyed by its SDK name, so a koffi
 * struct declaration (or anything else) can be checked against one table.
 * `ProtocolChain.members` offsets are relative to the start of ProtocolChain, as
 * `offsetof(WSAPROTOCOLCHAIN, …)` would give them.
 */
export const PROTOCOL_INFO_LAYOUT = Object.freeze({
  dwServiceFlags1: member(0, 4),
  dwServiceFlags2: member(4, 4),
  dwServiceFlags3: member(8, 4),
  dwServiceFlags4: member(12, 4),
  dwProviderFlags: member(16, 4),
  ProviderId: member(20, 16),
  dwCatalogEntryId: member(36, 4),
  ProtocolChain: Object.freeze({
    offset: 40,
    size: 32,
    members: Object.freeze({
      ChainLen: member(0, 4),
      ChainEntries: member(4, 4 * MAX_PROTOCOL_CHAIN),
    }),
  }),
  iVersion: member(72, 4),
  iAddressFamily: member(76, 4),
  iMaxSockAddr: member(80, 4),
  iMinSockAddr: member(84, 4),
  iSocketType: member(88, 4),
  iProtocol: member(92, 4),
  iProtocolMaxOffset: member(96, 4),
  iNetworkByteOrder: member(100, 4),
  iSecurityScheme: member(104, 4),
  dwMessageSize: member(108, 4),
  dwProviderReserved: member(112, 4),
  szProtocol: member(116, 2 * (WSAPROTOCOL_LEN + 1)),
});

/**
 * A WSAPROTOCOL_INFOW, member for member (the SDK names are kept so docs and debuggers match).
 * @see https://learn.microsoft.com/en-us/windows/win32/api/winsock2/ns-winsock2-wsaprotocol_infow
 */
export interface ProtocolInfo {
  /** XP1_* service flags (guaranteed delivery, graceful close, …). */
  dwServiceFlags1: number;
  /** Reserved service flags. */
  dwServiceFlags2: number;
  /** Reserved service flags. */
  dwServiceFlags3: number;
  /** Reserved service flags. */
  dwServiceFlags4: number;
  /** PFL_* flags describing the catalog entry. */
  dwProviderFlags: number;
  /** GUID of the service provider, uppercase in braces: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`. */
  ProviderId: string;
  /** Winsock catalog entry id of this protocol. */
  dwCatalogEntryId: number;
  /** Layered-protocol chain (WSAPROTOCOLCHAIN). */
  ProtocolChain: {
    /** 0 = layered protocol, 1 = base protocol, 2..7 = protocol chain length. */
    ChainLen: number;
    /** Catalog entry ids of the chain; always 7 slots, only the first ChainLen meaningful. */
    ChainEntries: number[];
  };
  /** Protocol version. */
  iVersion: number;
  /** Address family (AF_INET = 2, AF_INET6 = 23, …). */
  iAddressFamily: number;
  /** Largest sockaddr size, in bytes. */
  iMaxSockAddr: number;
  /** Smallest sockaddr size, in bytes. */
  iMinSockAddr: number;
  /** Socket type (SOCK_STREAM = 1, SOCK_DGRAM = 2, …). */
  iSocketType: number;
  /** Protocol (IPPROTO_TCP = 6, IPPROTO_UDP = 17, …). */
  iProtocol: number;
  /** Largest value that may be added to iProtocol (raw sockets). */
  iProtocolMaxOffset: number;
  /** BIGENDIAN (0) or LITTLEENDIAN (1). */
  iNetworkByteOrder: number;
  /** SECURITY_PROTOCOL_NONE (0) or a security scheme. */
  iSecurityScheme: number;
  /** Largest message size; 0 for stream protocols. */
  dwMessageSize: number;
  /** Reserved for the provider (on a duplicated socket it carries the duplicated handle). */
  dwProviderReserved: number;
  /** Human-readable protocol name, e.g. `MSAFD Tcpip [TCP/IP]`. */
  szProtocol: string;
}

const UINT32_MEMBERS = [
  'dwServiceFlags1',
  'dwServiceFlags2',
  'dwServiceFlags3',
  'dwServiceFlags4',
  'dwProviderFlags',
  'dwCatalogEntryId',
  'dwMessageSize',
  'dwProviderReserved',
] as const;

const INT32_MEMBERS = [
  'iVersion',
  'iAddressFamily',
  'iMaxSockAddr',
  'iMinSockAddr',
  'iSocketType',
  'iProtocol',
  'iProtocolMaxOffset',
  'iNetworkByteOrder',
  'iSecurityScheme',
] as const;

type Uint32Member = (typeof UINT32_MEMBERS)[number];
type Int32Member = (typeof INT32_MEMBERS)[number];

const CHAIN = PROTOCOL_INFO_LAYOUT.ProtocolChain;
const CHAIN_LEN_OFFSET = CHAIN.offset + CHAIN.members.ChainLen.offset;
const CHAIN_ENTRIES_OFFSET = CHAIN.offset + CHAIN.members.ChainEntries.offset;

/**
 * Parse the 628 bytes of a WSAPROTOCOL_INFOW.
 * Bytes after the szProtocol terminator and ChainEntries beyond ChainLen are not checked:
 * Windows and Python leave stack garbage there, so real tokens carry it.
 * @throws {InvalidTokenError} `ERR_INVALID_TOKEN` for a wrong length, ChainLen outside 0..7, or an
 *   szProtocol that is unterminated or not valid UTF-16.
 * @throws {SocketHandoffError} `ERR_INVALID_ARG_TYPE` if `bytes` is not a Uint8Array.
 * @example const info = protocolInfoFromBytes(buffer); // info.iSocketType === 1
 */
export function protocolInfoFromBytes(bytes: Uint8Array): ProtocolInfo {
  if (!isUint8Array(bytes)) throw invalidArgType('bytes', 'a Buffer or a Uint8Array', bytes);
  if (bytes.byteLength !== PROTOCOL_INFO_SIZE) {
    throw new InvalidTokenError(`${PROTOCOL_INFO_SIZE} bytes expected, got ${bytes.byteLength}`);
  }
  // A DataView tolerates any byteOffset, e.g. a Buffer slice from Node's shared pool.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (name: Uint32Member) => view.getUint32(PROTOCOL_INFO_LAYOUT[name].offset, true);
  const i32 = (name: Int32Member) => view.getInt32(PROTOCOL_INFO_LAYOUT[name].offset, true);
  // Object literal in SDK order so console.log output reads like the struct.
  return {
    dwServiceFlags1: u32('dwServiceFlags1'),
    dwServiceFlags2: u32('dwServiceFlags2'),
    dwServiceFlags3: u32('dwServiceFlags3'),
    dwServiceFlags4: u32('dwServiceFlags4'),
    dwProviderFlags: u32('dwProviderFlags'),
    ProviderId: readGuid(view, PROTOCOL_INFO_LAYOUT.ProviderId.offset),
    dwCatalogEntryId: u32('dwCatalogEntryId'),
    ProtocolChain: readProtocolChain(view),
    iVersion: i32('iVersion'),
    iAddressFamily: i32('iAddressFamily'),
    iMaxSockAddr: i32('iMaxSockAddr'),
    iMinSockAddr: i32('iMinSockAddr'),
    iSocketType: i32('iSocketType'),
    iProtocol: i32('iProtocol'),
    iProtocolMaxOffset: i32('iProtocolMaxOffset'),
    iNetworkByteOrder: i32('iNetworkByteOrder'),
    iSecurityScheme: i32('iSecurityScheme'),
    dwMessageSize: u32('dwMessageSize'),
    dwProviderReserved: u32('dwProviderReserved'),
    szProtocol: readSzProtocol(view),
  };
}

/**
 * Serialize a ProtocolInfo into a fresh 628-byte Buffer; bytes no member covers are zero.
 * @throws {SocketHandoffError} `ERR_INVALID_ARG_TYPE` for a missing or wrongly typed member,
 *   `ERR_INVALID_ARG_VALUE` for an out-of-range number, a malformed ProviderId, a ChainEntries
 *   array that is not 7 long, or an szProtocol that is too long, contains NUL or a lone surrogate.
 *   The message names the member, e.g. `info.iSocketType`.
 * @example const bytes = protocolInfoToBytes(info); // bytes.length === 628
 */
export function protocolInfoToBytes(info: ProtocolInfo): Buffer {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw invalidArgType('info', 'a ProtocolInfo object', info);
  }
  const fields = info as unknown as Record<string, unknown>;
  const out = Buffer.alloc(PROTOCOL_INFO_SIZE);
  for (const name of UINT32_MEMBERS) {
    out.writeUInt32LE(checkUint32(fields[name], `info.${name}`), PROTOCOL_INFO_LAYOUT[name].offset);
  }
  for (const name of INT32_MEMBERS) {
    out.writeInt32LE(checkInt32(fields[name], `info.${name}`), PROTOCOL_INFO_LAYOUT[name].offset);
  }
  writeGuid(out, PROTOCOL_INFO_LAYOUT.ProviderId.offset, fields.ProviderId);
  writeProtocolChain(out, fields.ProtocolChain);
  writeSzProtocol(out, fields.szProtocol);
  return out;
}

function readProtocolChain(view: DataView): ProtocolInfo['ProtocolChain'] {
  const chainLen = view.getInt32(CHAIN_LEN_OFFSET, true);
  if (chainLen < 0 || chainLen > MAX_PROTOCOL_CHAIN) {
    throw new InvalidTokenError(`ProtocolChain.ChainLen is ${chainLen}, expected 0..${MAX_PROTOCOL_CHAIN}`);
  }
  const entries: number[] = [];
  for (let i = 0; i < MAX_PROTOCOL_CHAIN; i++) entries.push(view.getUint32(CHAIN_ENTRIES_OFFSET + 4 * i, true));
  return { ChainLen: chainLen, ChainEntries: entries };
}

function writeProtocolChain(out: Buffer, chain: unknown): void {
  if (typeof chain !== 'object' || chain === null) {
    throw invalidArgType('info.ProtocolChain', 'an object with ChainLen and ChainEntries', chain);
  }
  const { ChainLen, ChainEntries } = chain as Record<string, unknown>;
  const chainLen = checkInteger(ChainLen, 'info.ProtocolChain.ChainLen', 0, MAX_PROTOCOL_CHAIN);
  out.writeInt32LE(chainLen, CHAIN_LEN_OFFSET);
  const name = 'info.ProtocolChain.ChainEntries';
  if (!Array.isArray(ChainEntries)) throw invalidArgType(name, 'an array of numbers', ChainEntries);
  if (ChainEntries.length !== MAX_PROTOCOL_CHAIN) {
    const allowed = `an array of exactly ${MAX_PROTOCOL_CHAIN} entries, not ${ChainEntries.length}`;
    throw invalidArgValue(name, allowed, ChainEntries);
  }
  // Indexed loop, not forEach: a sparse array's holes must fail as undefined, not be skipped.
  for (let i = 0; i < MAX_PROTOCOL_CHAIN; i++) {
    out.writeUInt32LE(checkUint32(ChainEntries[i], `${name}[${i}]`), CHAIN_ENTRIES_OFFSET + 4 * i);
  }
}

function readSzProtocol(view: DataView): string {
  const { offset } = PROTOCOL_INFO_LAYOUT.szProtocol;
  const units: number[] = [];
  for (let i = 0; i <= WSAPROTOCOL_LEN; i++) {
    const unit = view.getUint16(offset + 2 * i, true);
    if (unit === 0) return checkWellFormed(String.fromCharCode(...units));
    units.push(unit);
  }
  throw new InvalidTokenError(`szProtocol is not NUL-terminated within ${WSAPROTOCOL_LEN + 1} characters`);
}

function checkWellFormed(text: string): string {
  const at = loneSurrogateIndex(text);
  if (at !== -1) {
    const unit = text.charCodeAt(at).toString(16).toUpperCase();
    throw new InvalidTokenError(`szProtocol is not valid UTF-16 (lone surrogate 0x${unit} at character ${at})`);
  }
  return text;
}

function writeSzProtocol(out: Buffer, text: unknown): void {
  const name = 'info.szProtocol';
  if (typeof text !== 'string') throw invalidArgType(name, 'of type string', text);
  if (text.length > WSAPROTOCOL_LEN) {
    const allowed = `a string of at most ${WSAPROTOCOL_LEN} UTF-16 code units, not ${text.length}`;
    throw invalidArgValue(name, allowed, text);
  }
  if (text.includes('\0')) throw invalidArgValue(name, 'a string without NUL characters', text);
  if (loneSurrogateIndex(text) !== -1) {
    throw invalidArgValue(name, 'well-formed UTF-16 (no lone surrogates)', text);
  }
  // At most 510 bytes are written, so the terminator (already zero) always survives.
  out.write(text, PROTOCOL_INFO_LAYOUT.szProtocol.offset, 'utf16le');
}

/** Index of the first unpaired surrogate, or -1 (String#isWellFormed is not in our ES2022 lib). */
function loneSurrogateIndex(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return i;
  }
  return -1;
}

const GUID_PATTERN = /^\{([0-9A-F]{8})-([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{12})\}$/i;

/** GUID in registry format; Data1..3 are little-endian integers, Data4 is 8 bytes in order. */
function readGuid(view: DataView, offset: number): string {
  const hex = (value: number, width: number) => value.toString(16).toUpperCase().padStart(width, '0');
  let data4 = '';
  for (let i = 0; i < 8; i++) data4 += hex(view.getUint8(offset + 8 + i), 2);
  const data1 = hex(view.getUint32(offset, true), 8);
  const data2 = hex(view.getUint16(offset + 4, true), 4);
  const data3 = hex(view.getUint16(offset + 6, true), 4);
  return `{${data1}-${data2}-${data3}-${data4.slice(0, 4)}-${data4.slice(4)}}`;
}

function writeGuid(out: Buffer, offset: number, guid: unknown): void {
  const name = 'info.ProviderId';
  if (typeof guid !== 'string') throw invalidArgType(name, 'of type string', guid);
  const match = GUID_PATTERN.exec(guid);
  if (!match) throw invalidArgValue(name, 'a GUID like {E70F1AA0-AB8B-11CF-8CA3-00805F48A192}', guid);
  const [, data1, data2, data3, data4a, data4b] = match;
  out.writeUInt32LE(parseInt(data1, 16), offset);
  out.writeUInt16LE(parseInt(data2, 16), offset + 4);
  out.writeUInt16LE(parseInt(data3, 16), offset + 6);
  out.write(data4a + data4b, offset + 8, 'hex');
}

function checkUint32(value: unknown, name: string): number {
  return checkInteger(value, name, 0, UINT32_MAX);
}

function checkInt32(value: unknown, name: string): number {
  return checkInteger(value, name, INT32_MIN, INT32_MAX);
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidArgValue(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}
