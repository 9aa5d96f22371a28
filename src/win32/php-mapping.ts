/**
 * PHP's form of a shared socket, in one place for `socket-handoff/php` and for the channel's
 * mapping form (docs/protocol.md): the exporter calls WSADuplicateSocketA for the target pid and
 * writes the 372-byte WSAPROTOCOL_INFOA into a named file mapping; the importer opens the mapping
 * by name, reads the struct and calls WSASocketA. This is what php-src ext/sockets/sockets.c does
 * in socket_wsaprotocol_info_export/_import (built with _MBCS, so the ANSI struct and calls).
 * Returns raw sockets, names and mapping handles, never objects of this package.
 */
import { randomBytes } from 'node:crypto';
import { SocketHandoffError, type WinsockError } from '../errors';
import type { FileMappings, SocketHandleInfo } from '../platform-api';
import { PROTOCOL_INFO_LAYOUT } from '../protocol-info';
import { AF_INET, AF_INET6, PROTOCOL_INFO_A_SIZE } from './constants';
import { closeMapping, createMapping, readMapping } from './file-mapping';
import { duplicateSocketAnsi, importSocket } from './tokens';

/** Longest mapping name taken (a Windows object name; PHP's are `php_wsa_for_<n>`, ours about 50). */
export const MAX_MAPPING_NAME = 255;

/** WSAPROTOCOL_LEN + 1: szProtocol of WSAPROTOCOL_INFOA holds 256 one-byte characters. */
const SZ_PROTOCOL_A_CHARS = 256;
const MAX_PROTOCOL_CHAIN = 7;

let counter = 0;

/**
 * A name no other exporter uses: `socket_handoff_wsa_<pid>_<n>_<8 random hex digits>` (PHP's own
 * `php_wsa_for_<n>` restarts at 0 in every process, so two exporters on one machine can collide).
 */
export function newMappingName(): string {
  return `socket_handoff_wsa_${process.pid}_${counter++}_${randomBytes(4).toString('hex')}`;
}

/**
 * WSADuplicateSocketA for `targetPid`, written into a new mapping. Returns its name and this
 * process's handle of it, which keeps it alive: close it (closeMapping) once the importer has read it.
 * Blocking mode is not touched here (the caller decides). Nothing stays open if this throws.
 * @throws WinsockError (WSADuplicateSocketA, CreateFileMappingW: `ERROR_ALREADY_EXISTS`, MapViewOfFile)
 */
export function exportToMapping(socket: bigint, targetPid: number): { name: string; map: bigint } {
  const info = duplicateSocketAnsi(socket, targetPid);
  const name = newMappingName();
  return { name, map: createMapping(name, info) };
}

/**
 * The checks a WSAPROTOCOL_INFOA gets before WSASocketA sees it: a chain length Windows could have
 * written, a terminated szProtocol, and an IPv4 or IPv6 family. A mapping smaller than the struct
 * reads as zeros past its end under Wine (its view is page-sized), and fails the family check here.
 */
function checkInfoA(bytes: Buffer): void {
  const chain = bytes.readInt32LE(PROTOCOL_INFO_LAYOUT.ProtocolChain.offset + PROTOCOL_INFO_LAYOUT.ProtocolChain.members.ChainLen.offset);
  if (chain < 0 || chain > MAX_PROTOCOL_CHAIN) throw new Error(`ProtocolChain.ChainLen is ${chain}, expected 0..${MAX_PROTOCOL_CHAIN}`);
  const sz = bytes.subarray(PROTOCOL_INFO_LAYOUT.szProtocol.offset, PROTOCOL_INFO_LAYOUT.szProtocol.offset + SZ_PROTOCOL_A_CHARS);
  if (!sz.includes(0)) throw new Error(`szProtocol is not NUL-terminated within ${SZ_PROTOCOL_A_CHARS} characters`);
  const family = bytes.readInt32LE(PROTOCOL_INFO_LAYOUT.iAddressFamily.offset);
  if (family !== AF_INET && family !== AF_INET6) throw new Error(`iAddressFamily is ${family}, not AF_INET (2) or AF_INET6 (23)`);
}

/**
 * Reads mapping `name` and imports the socket in it (WSASocketA, overlapped, not inheritable): the
 * caller owns the result. The mapping is opened and closed here; the exporter's handle is untouched.
 * @throws SocketHandoffError `ERR_INVALID_MAPPING` for a name that is empty, too long or holds NUL,
 *   a mapping that cannot be opened or mapped (e.g. no mapping has that name), or content that is
 *   not a well-formed WSAPROTOCOL_INFOA; `cause` is the WinsockError where the OS refused.
 * @throws WinsockError `WSAE…` when WSASocketA refuses a well-formed struct (e.g. made for another process).
 */
export function importFromMapping(name: string): SocketHandleInfo {
  if (name.length === 0 || name.length > MAX_MAPPING_NAME || name.includes('\0')) {
    throw new SocketHandoffError('ERR_INVALID_MAPPING', `a mapping name is 1 to ${MAX_MAPPING_NAME} characters without NUL; got ${JSON.stringify(name.slice(0, 40))} (${name.length} characters)`);
  }
  let bytes: Buffer;
  try {
    bytes = readMapping(name, PROTOCOL_INFO_A_SIZE);
    checkInfoA(bytes);
  } catch (cause) {
    const os = (cause as WinsockError).errno !== undefined ? ` (${(cause as WinsockError).code})` : '';
    throw new SocketHandoffError('ERR_INVALID_MAPPING', `mapping ${JSON.stringify(name)} does not hold a WSAPROTOCOL_INFOA this process can import: ${(cause as Error).message}${os}`, { cause });
  }
  return importSocket(bytes);
}

/** The mapping functions of the Windows platform (Platform.fileMappings): socket-handoff/php's. */
export const phpMappings: FileMappings = { createMapping, readMapping, closeMapping, exportSocket: exportToMapping };
