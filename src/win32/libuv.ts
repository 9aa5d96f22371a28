/**
 * libuv functions that node.exe exports, bound on first call. Node hides the SOCKET of its own
 * sockets on Windows (`_handle.fd` is -1), and these are the public, ABI-stable way to reach it.
 * https://docs.libuv.org/en/v1.x/handle.html
 */
import koffi from 'koffi';
import { lazyLibrary } from '../lazy-library';
import './koffi-types';

const bind = lazyLibrary(process.execPath);

type Pointer = number | bigint;

/** https://docs.libuv.org/en/v1.x/loop.html#c.uv_default_loop */
export const uv_default_loop = bind<() => Pointer>('uintptr_t uv_default_loop()');

/** https://docs.libuv.org/en/v1.x/handle.html#c.uv_handle_get_type */
export const uv_handle_get_type = bind<(handle: Pointer) => number>('int uv_handle_get_type(uintptr_t handle)');

/** https://docs.libuv.org/en/v1.x/handle.html#c.uv_fileno */
export const uv_fileno = bind<(handle: Pointer, fd: Array<Pointer>) => number>(
  'int uv_fileno(uintptr_t handle, _Out_ uintptr_t *fd)',
);

const POINTER_SIZE = BigInt(koffi.sizeof('void*'));

/**
 * Offsets of the intrusive handle queue, fixed by libuv's public ABI (uv.h):
 * uv_loop_t { void* data; unsigned active_handles; struct uv__queue handle_queue; ... } and
 * uv_handle_t { void* data; uv_loop_t* loop; uv_handle_type type; uv_close_cb close_cb;
 * struct uv__queue handle_queue; ... }, where a queue node is { next, prev }.
 */
export const LOOP_HANDLE_QUEUE_OFFSET = 2n * POINTER_SIZE;
export const HANDLE_LOOP_OFFSET = POINTER_SIZE;
export const HANDLE_QUEUE_OFFSET = 4n * POINTER_SIZE;
export const QUEUE_PREV_OFFSET = POINTER_SIZE;

/** Reads one pointer-sized value from process memory. */
export function readPointer(address: bigint): bigint {
  return BigInt(POINTER_SIZE === 8n ? koffi.decode.uint64(address) : koffi.decode.uint32(address));
}
