/**
 * Named file mappings backed by the paging file, as PHP's socket_wsaprotocol_info_export stores a
 * WSAPROTOCOL_INFOA under a name for another process to open. A mapping lives while any process
 * holds a handle to it: the exporter's handle (closed on release, or when the exporter exits).
 */
import koffi from 'koffi';
import { ERROR_ALREADY_EXISTS, FILE_MAP_READ, FILE_MAP_WRITE, INVALID_HANDLE_VALUE, PAGE_READWRITE } from './constants';
import { CloseHandle, CreateFileMappingW, GetLastError, MapViewOfFile, OpenFileMappingW, UnmapViewOfFile } from './kernel32';
import { winsockError } from './winsock-error';

/**
 * Creates mapping `name` holding exactly `bytes`; returns its handle, which keeps it alive.
 * @throws WinsockError (CreateFileMappingW, MapViewOfFile; `ERROR_ALREADY_EXISTS` if the name is taken)
 */
export function createMapping(name: string, bytes: Buffer): bigint {
  const map = BigInt(CreateFileMappingW(INVALID_HANDLE_VALUE, null, PAGE_READWRITE, 0, bytes.length, name));
  const created = GetLastError();
  if (map === 0n) throw winsockError('CreateFileMappingW', created);
  try {
    // An existing section of that name is opened instead of created: never write into someone else's.
    if (created === ERROR_ALREADY_EXISTS) throw winsockError('CreateFileMappingW', ERROR_ALREADY_EXISTS);
    const view = MapViewOfFile(map, FILE_MAP_WRITE, 0, 0, bytes.length);
    if (view === null) throw winsockError('MapViewOfFile', GetLastError());
    Buffer.from(koffi.view(view, bytes.length)).set(bytes);
    UnmapViewOfFile(view);
    return map;
  } catch (err) {
    CloseHandle(map);
    throw err;
  }
}

/**
 * Reads the first `size` bytes of mapping `name`. A mapping smaller than `size` cannot be mapped
 * that far, so it fails instead of reading past its end.
 * @throws WinsockError (OpenFileMappingW: `WIN32_ERROR_2` when no mapping has that name; MapViewOfFile)
 */
export function readMapping(name: string, size: number): Buffer {
  const map = BigInt(OpenFileMappingW(FILE_MAP_READ, 0, name));
  if (map === 0n) throw winsockError('OpenFileMappingW', GetLastError());
  try {
    const view = MapViewOfFile(map, FILE_MAP_READ, 0, 0, size);
    if (view === null) throw winsockError('MapViewOfFile', GetLastError());
    const bytes = Buffer.from(Buffer.from(koffi.view(view, size)));
    UnmapViewOfFile(view);
    return bytes;
  } finally {
    CloseHandle(map);
  }
}

/** Closes this process's handle of a mapping. */
export function closeMapping(map: bigint): void {
  if (!CloseHandle(map)) throw winsockError('CloseHandle', GetLastError());
}
