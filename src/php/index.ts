/**
 * `socket-handoff/php`: PHP's socket_wsaprotocol_info_* functions for Node, with PHP's names and
 * contract, so PHP code ports line by line and a real PHP process on Windows can take what we
 * export, and the other way round.
 *
 * PHP's way (php-src ext/sockets/sockets.c, built with _MBCS, so WSAPROTOCOL_INFO is the 372-byte
 * WSAPROTOCOL_INFOA): the exporter calls WSADuplicateSocketA for the target pid, writes the struct
 * into a named file mapping and returns its name; the importer opens the mapping by name, reads the
 * struct and calls WSASocketA; release closes the exporter's handle of the mapping. PHP's importer
 * marks the socket blocking without asking, so the export here puts it in blocking mode first.
 * Failures return false and set socket_last_error(), as in PHP; wrong argument types throw, as PHP's
 * TypeError does. Off Windows every call throws ERR_UNSUPPORTED_PLATFORM (PHP has these on Windows only).
 *
 * @example
 *   const id = socket_wsaprotocol_info_export(socket, workerPid); // send `id` to the worker
 *   const socket = socket_wsaprotocol_info_import(id);
 *   if (socket === false) console.log('Failed to import socket: ' + socket_strerror(socket_last_error()));
 */
import { invalidArgType, invalidArgValue, type WinsockError } from '../errors';
import { platform } from '../platform';
import { socketHandleFrom, type SocketHandle } from '../socket-handle';
import { duplicateRaw, rawSocketOf, type ExportableSocket } from '../token-api';

/** sizeof(WSAPROTOCOL_INFOA). */
const INFO_A_SIZE = 372;

/** Mappings this process exported and has not released: name → handle. */
const exported = new Map<string, bigint>();
let lastError = 0;

/** Runs a Windows step; a Winsock/Win32 failure becomes `false` and socket_last_error(). */
function orFalse<T>(step: () => T): T | false {
  try {
    const value = step();
    lastError = 0;
    return value;
  } catch (err) {
    const errno = (err as WinsockError).errno;
    if (typeof errno !== 'number') throw err; // a coded error of ours (arguments, platform): thrown as PHP throws
    lastError = errno;
    return false;
  }
}

function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid)) throw invalidArgType('pid', 'an integer', pid);
  if (pid < 1 || pid > 0xffffffff) throw invalidArgValue('pid', 'a process id from 1 to 4294967295', pid);
  return pid;
}

function checkId(id: unknown): string {
  if (typeof id !== 'string') throw invalidArgType('id', 'a string', id);
  return id;
}

/**
 * Exports `socket` for process `pid` the PHP way; returns the mapping's name, or false (see
 * socket_last_error()). The socket is put in blocking mode first (PHP's importer assumes it), and
 * a net.Socket stops being read by Node: destroy this process's copy once the importer has it.
 * Names are unique across processes (`socket_handoff_wsa_<pid>_<n>_<random>`); PHP's own
 * `php_wsa_for_<n>` restarts at 0 in every process.
 */
export function socket_wsaprotocol_info_export(socket: ExportableSocket, pid: number): string | false {
  const target = checkPid(pid);
  const backend = platform();
  const mappings = backend.fileMappings();
  const { raw, release } = rawSocketOf(socket);
  return orFalse(() => {
    // Blocking first, as PHP's importer assumes; undone (and the hold released) if the export fails.
    const { name, map } = duplicateRaw(raw, release, true, (s) => mappings.exportSocket(s, target));
    exported.set(name, map);
    return name;
  });
}

/**
 * Imports the socket exported under `id` (ours, or a PHP process's `php_wsa_for_<n>`); returns a
 * SocketHandle (adopt it with toNetSocket()/toNetServer()), or false (see socket_last_error()).
 * A name that no mapping has, a mapping smaller than WSAPROTOCOL_INFOA, or one holding anything
 * but a valid struct for this process, all give false; nothing is leaked.
 */
export function socket_wsaprotocol_info_import(id: string): SocketHandle | false {
  const name = checkId(id);
  const backend = platform();
  const mappings = backend.fileMappings();
  return orFalse(() => socketHandleFrom(backend.importSocket(mappings.readMapping(name, INFO_A_SIZE))));
}

/** Frees what export created for `id` (closes this process's handle of the mapping); false if it is not ours or already released. */
export function socket_wsaprotocol_info_release(id: string): boolean {
  const name = checkId(id);
  const map = exported.get(name);
  if (map === undefined) return false;
  exported.delete(name);
  return orFalse(() => platform().fileMappings().closeMapping(map)) !== false;
}

/** The error number of the last failed socket_wsaprotocol_info_* call (0 after a success), as PHP's socket_last_error(). */
export function socket_last_error(): number {
  return lastError;
}

/** The system's text for an error number, as PHP's socket_strerror(). */
export function socket_strerror(code: number): string {
  if (typeof code !== 'number' || !Number.isInteger(code)) throw invalidArgType('code', 'an integer', code);
  return platform().errorText(code) || `Unknown error ${code}`;
}

