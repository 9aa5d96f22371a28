/**
 * libuv's poll watcher (uv_poll_t), reached through the uv_* symbols the node binary exports for
 * addons (koffi.load(null) is the running executable). It tells when a descriptor is readable or
 * writable without reading it: Node itself must never read a Unix socket that carries SCM_RIGHTS,
 * because read() would close the descriptors that ride with the bytes. Callbacks run on the event
 * loop thread, like any libuv callback, and end by running the ticks and promise continuations they
 * queued (runQueuedTicks). https://docs.libuv.org/en/v1.x/poll.html
 */
import koffi, { type TypeObject } from 'koffi';
import { isMainThread } from 'node:worker_threads';
import { SocketHandoffError } from '../errors';
import { lazyLibrary } from '../lazy-library';
import { runQueuedTicks } from '../node-internals';
import { UV_POLL } from './constants';
import { posixError } from './posix-error';

const bind = lazyLibrary(null);
type Pointer = unknown;

const uv_default_loop = bind<() => Pointer>('void *uv_default_loop()');
const uv_handle_size = bind<(type: number) => number | bigint>('size_t uv_handle_size(int type)');
const uv_poll_init = bind<(loop: Pointer, handle: Pointer, fd: number) => number>('int uv_poll_init(void *loop, void *handle, int fd)');
const uv_poll_start = bind<(handle: Pointer, events: number, cb: Pointer) => number>('int uv_poll_start(void *handle, int events, void *cb)');
const uv_poll_stop = bind<(handle: Pointer) => number>('int uv_poll_stop(void *handle)');
const uv_close = bind<(handle: Pointer, cb: Pointer) => void>('void uv_close(void *handle, void *cb)');
const uv_ref = bind<(handle: Pointer) => void>('void uv_ref(void *handle)');
const uv_unref = bind<(handle: Pointer) => void>('void uv_unref(void *handle)');

type PollCallback = (status: number, events: number) => void;

/** One koffi callback each for every watcher, dispatching on the handle's address. */
const watchers = new Map<bigint, PollCallback>();
const closing = new Map<bigint, Pointer>();
let callbacks: { poll: Pointer; close: Pointer } | undefined;

function registeredCallbacks(): { poll: Pointer; close: Pointer } {
  if (callbacks === undefined) {
    const pollProto = protoOnce('socket_handoff_uv_poll_cb', 'void socket_handoff_uv_poll_cb(void *handle, int status, int events)');
    const closeProto = protoOnce('socket_handoff_uv_close_cb', 'void socket_handoff_uv_close_cb(void *handle)');
    callbacks = {
      poll: koffi.register((handle: Pointer, status: number, events: number) => {
        try {
          watchers.get(koffi.address(handle))?.(status, events);
        } finally {
          // What the watcher queued (a resolved send(), a nextTick 'close') runs now, as after any Node callback.
          runQueuedTicks();
        }
      }, koffi.pointer(pollProto)),
      close: koffi.register((handle: Pointer) => {
        const address = koffi.address(handle);
        const memory = closing.get(address);
        closing.delete(address);
        if (memory !== undefined) koffi.free(memory);
      }, koffi.pointer(closeProto)),
    };
  }
  return callbacks;
}

/** koffi type names are process-wide: a second copy of this module reuses them. */
function protoOnce(name: string, prototype: string): TypeObject {
  try {
    return koffi.type(name);
  } catch {
    return koffi.proto(prototype);
  }
}

/** @throws SocketHandoffError `ERR_NOT_MAIN_THREAD` in a worker thread (see PollWatcher). */
export function requireMainThread(): void {
  if (!isMainThread) {
    throw new SocketHandoffError('ERR_NOT_MAIN_THREAD', 'the Linux channel and HandoverServer run on the main thread only (they poll on its libuv loop)');
  }
}

/** Watches one descriptor. close() before the descriptor itself is closed. */
export class PollWatcher {
  readonly #memory: Pointer;
  readonly #address: bigint;
  #closed = false;

  /**
   * Also makes `fd` non-blocking (uv_poll_init does).
   * @throws SocketHandoffError `ERR_NOT_MAIN_THREAD` in a worker thread: it has its own libuv loop,
   *   which the node binary does not export; only the main thread's loop is uv_default_loop().
   */
  constructor(fd: number, onEvent: PollCallback) {
    requireMainThread();
    registeredCallbacks();
    this.#memory = koffi.alloc('uint8_t', Number(uv_handle_size(UV_POLL)));
    this.#address = koffi.address(this.#memory);
    const err = uv_poll_init(uv_default_loop(), this.#memory, fd);
    if (err !== 0) {
      koffi.free(this.#memory);
      throw posixError('uv_poll_init', -err);
    }
    watchers.set(this.#address, onEvent);
  }

  /** Starts (or changes) watching for `events` (UV_READABLE | UV_WRITABLE); 0 stops. */
  watch(events: number): void {
    if (this.#closed) return;
    const err = events === 0 ? uv_poll_stop(this.#memory) : uv_poll_start(this.#memory, events, registeredCallbacks().poll);
    if (err !== 0) throw posixError(events === 0 ? 'uv_poll_stop' : 'uv_poll_start', -err);
  }

  /** As a Node handle's ref()/unref(): whether this watcher alone keeps the event loop alive. */
  ref(): void {
    if (!this.#closed) uv_ref(this.#memory);
  }

  unref(): void {
    if (!this.#closed) uv_unref(this.#memory);
  }

  /** Stops watching for good; the memory is freed in libuv's close callback. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    watchers.delete(this.#address);
    closing.set(this.#address, this.#memory);
    uv_close(this.#memory, registeredCallbacks().close);
  }
}
