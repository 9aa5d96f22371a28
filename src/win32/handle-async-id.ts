/**
 * Where a Node TCP handle keeps its async id, so that the SOCKET of a Node socket can be found
 * without asking Winsock for any address (under Wine each such call costs about 100 µs).
 *
 * Node's TCPWrap object embeds the uv_tcp_t and sets the handle's `data` (the first field of
 * uv_handle_t, uv.h) to the start of the wrap; the wrap's AsyncWrap part, before the handle, holds
 * the async id that JS reads with `_handle.getAsyncId()`, unique in the process for the handle's
 * life. How far before the handle is a fact of the Node build, not of libuv's ABI, so it is learned
 * at run time: from handles whose SOCKET was found by address key (so whose async id is known for
 * sure), the bytes between `data` and the handle are searched for that id. The distance is used
 * once CONFIRMATIONS handles agreed on it; a handle that shows another distance turns it off for
 * the life of the process, and lookups by address key go on as before.
 *
 * Memory is read only between a handle's `data` and the handle itself, and only when `data` lies
 * at most MAX_WRAP_PREFIX bytes before it: one object, Node's wrap. A handle whose `data` points
 * anywhere else (one not made by Node) is skipped, never read through.
 */
import koffi from 'koffi';
import { debug } from '../debug';
import { readPointer } from './libuv';

/** Node's wraps put the handle a few hundred bytes in; `data` further away than this is not a wrap. */
const MAX_WRAP_PREFIX = 1024n;
/** Handles that must agree on the distance before it is used. */
const CONFIRMATIONS = 3;
/** Doubles are at least 4-byte aligned in every layout Node is built with. */
const STEP = 4n;

let distance: bigint | undefined;
let agreed = 0;
let disabled = false;

/** The start of the wrap object around `handle`, or undefined when `data` does not point to one. */
function wrapStart(handle: bigint): bigint | undefined {
  const data = readPointer(handle);
  if (data === 0n || data >= handle || handle - data > MAX_WRAP_PREFIX || data % STEP !== 0n) return undefined;
  return data;
}

/** True once the distance is learned and trusted. */
export function asyncIdReadable(): boolean {
  return !disabled && distance !== undefined && agreed >= CONFIRMATIONS;
}

/** The async id Node keeps with `handle`; undefined when it cannot be read (not learned, or not a Node wrap). */
export function asyncIdOfHandle(handle: bigint): number | undefined {
  if (!asyncIdReadable()) return undefined;
  const start = wrapStart(handle);
  const at = handle - (distance as bigint);
  if (start === undefined || at < start) return undefined;
  return koffi.decode(at, 'double') as number;
}

/** Learns, or checks, the distance from a handle whose async id is known for sure. */
export function learnAsyncId(handle: bigint, asyncId: number): void {
  if (disabled || !Number.isFinite(asyncId) || asyncId <= 0) return;
  const start = wrapStart(handle);
  if (start === undefined) return;
  const found: bigint[] = [];
  for (let at = start; at + 8n <= handle; at += STEP) {
    if ((koffi.decode(at, 'double') as number) === asyncId) found.push(handle - at);
  }
  // Not exactly one place: nothing learned from this handle.
  if (found.length !== 1) return;
  if (distance === undefined || found[0] === distance) {
    distance = found[0];
    agreed++;
    if (agreed === CONFIRMATIONS) debug('win32: a Node TCP handle keeps its async id %d bytes before the handle; lookups use it', distance);
    return;
  }
  disabled = true;
  debug('win32: async id found %d bytes before a handle, not %d as before; lookups by async id are off', found[0], distance);
}
