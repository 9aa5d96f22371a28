/**
 * Walks the handles of libuv's default loop from the newest, through the intrusive handle queue
 * whose layout is libuv's public ABI (see libuv.ts). Every handle's `loop` field is checked against
 * the loop, so a build with another layout fails with a coded error instead of reading garbage.
 */
import { SocketHandoffError } from '../errors';
import {
  HANDLE_LOOP_OFFSET,
  HANDLE_QUEUE_OFFSET,
  LOOP_HANDLE_QUEUE_OFFSET,
  QUEUE_PREV_OFFSET,
  readPointer,
  uv_default_loop,
  uv_fileno,
  uv_handle_get_type,
} from './libuv';

let loopAddress: bigint | undefined;

function loop(): bigint {
  return (loopAddress ??= BigInt(uv_default_loop()));
}

/**
 * Visits the open handles of `type` (UV_TCP, UV_NAMED_PIPE…) from the newest, with their OS
 * handle (uv_fileno). `visit` returns true to stop. Returns false if it saw them all.
 * @throws SocketHandoffError `ERR_BINDING_UNAVAILABLE` when the handle layout is not the expected one.
 */
export function walkHandlesFromTail(type: number, visit: (handle: bigint, osHandle: bigint) => boolean): boolean {
  const head = loop() + LOOP_HANDLE_QUEUE_OFFSET;
  for (let node = readPointer(head + QUEUE_PREV_OFFSET); node !== head; node = readPointer(node + QUEUE_PREV_OFFSET)) {
    const handle = node - HANDLE_QUEUE_OFFSET;
    if (readPointer(handle + HANDLE_LOOP_OFFSET) !== loop()) {
      throw new SocketHandoffError(
        'ERR_BINDING_UNAVAILABLE',
        "This Node.js build's libuv handle layout is not the one socket-handoff knows; cannot find the OS handle of a Node socket. Pass a raw SOCKET instead.",
      );
    }
    if (uv_handle_get_type(handle) !== type) continue;
    const out: Array<number | bigint> = [0];
    if (uv_fileno(handle, out) !== 0) continue;
    if (visit(handle, BigInt(out[0]))) return true;
  }
  return false;
}
