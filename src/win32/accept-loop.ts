/**
 * An accept path this process controls, for listeners that must be handed over without loss.
 *
 * libuv keeps AcceptEx requests outstanding on a listener; when the old process closes it after a
 * hand-over, connections the kernel had already completed into those requests are reset
 * (measured: 62 of 22,862 connections over 9 restarts under Wine; docs/windows-notes.md). Here the
 * process only ever takes a connection by calling accept(), after select() (run on a koffi worker
 * thread, so the event loop never waits) said one is there. Stopping means: no further accept(),
 * let the in-flight select() return, closesocket(). Nothing of this process is pending in the
 * kernel then, so every connection not yet accepted stays in the backlog for the successor.
 *
 * A select() in flight on a koffi worker keeps the event loop alive, as a listening net.Server
 * does. unref() (net.Server's) switches to a non-blocking accept() every 50 ms from an unref'd
 * timer instead, which does not; ref() switches back.
 */
import koffi from 'koffi';
import { FIONBIO, HANDLE_FLAG_INHERIT, INVALID_SOCKET, WSAEWOULDBLOCK } from './constants';
import { GetLastError, SetHandleInformation } from './kernel32';
import { winsockError } from './winsock-error';
import { accept, closesocket, ioctlsocket, select, WSAGetLastError } from './ws2_32';
import type { WinsockError } from '../errors';
import type { AcceptLoop as AcceptLoopControl } from '../platform-api';

const POINTER_SIZE = koffi.sizeof('void*');
/** select() waits at most this long, which bounds how long stop() takes. */
const SELECT_TIMEOUT_US = 50_000;

export class AcceptLoop {
  readonly #socket: bigint;
  readonly #onAccept: (socket: bigint) => void;
  readonly #onError: (err: WinsockError) => void;
  // fd_set { u_int fd_count; SOCKET fd_array[64]; } and timeval { long tv_sec, tv_usec; }.
  readonly #readfds = Buffer.alloc(POINTER_SIZE + 64 * POINTER_SIZE);
  readonly #timeout = Buffer.alloc(8);
  #stopping = false;
  #refed = true;
  #timer: NodeJS.Timeout | undefined;
  #idle: Promise<void> = Promise.resolve();

  /** Makes the socket non-blocking and starts accepting. */
  static start(socket: bigint, onAccept: (socket: bigint) => void, onError: (err: WinsockError) => void): AcceptLoopControl {
    const loop = new AcceptLoop(socket, onAccept, onError);
    loop.start();
    return { stop: () => loop.stop(), ref: () => loop.ref(), unref: () => loop.unref() };
  }

  constructor(socket: bigint, onAccept: (socket: bigint) => void, onError: (err: WinsockError) => void) {
    this.#socket = socket;
    this.#onAccept = onAccept;
    this.#onError = onError;
    this.#timeout.writeInt32LE(SELECT_TIMEOUT_US, 4);
  }

  /** Makes the socket non-blocking (socket state, shared with every copy) and starts accepting. */
  start(): void {
    if (ioctlsocket(this.#socket, FIONBIO, [1]) !== 0) throw winsockError('ioctlsocket', WSAGetLastError());
    this.#poll();
  }

  /** Stops accepting; resolves once no select() is in flight. The socket is not closed here. */
  stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    return this.#idle;
  }

  ref(): void {
    if (this.#refed) return;
    this.#refed = true;
    // The timer's turn polls through select() again.
    this.#timer?.ref();
  }

  unref(): void {
    this.#refed = false;
    this.#timer?.unref();
  }

  #poll(): void {
    if (this.#stopping) return;
    if (!this.#refed) {
      // unref'd: no worker call in flight, only a timer that does not hold the loop.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#stopping) return;
        this.#acceptAll();
        this.#poll();
      }, SELECT_TIMEOUT_US / 1000);
      this.#timer.unref();
      return;
    }
    this.#readfds.writeUInt32LE(1, 0);
    if (POINTER_SIZE === 8) this.#readfds.writeBigUInt64LE(this.#socket, 8);
    else this.#readfds.writeUInt32LE(Number(this.#socket), 4);
    this.#idle = new Promise((resolve) => {
      select.async(0, this.#readfds, null, null, this.#timeout, (err, ready) => {
        resolve();
        if (this.#stopping) return;
        // WSAGetLastError() would read the worker thread's value here, so a failed select is only retried.
        if (!err && ready > 0) this.#acceptAll();
        setImmediate(() => this.#poll());
      });
    });
  }

  #acceptAll(): void {
    for (;;) {
      const socket = BigInt(accept(this.#socket, null, null));
      if (socket === INVALID_SOCKET) {
        const errno = WSAGetLastError();
        if (errno !== WSAEWOULDBLOCK) this.#onError(winsockError('accept', errno));
        return;
      }
      if (!SetHandleInformation(socket, HANDLE_FLAG_INHERIT, 0)) {
        const err = winsockError('SetHandleInformation', GetLastError());
        closesocket(socket);
        this.#onError(err);
        continue;
      }
      this.#onAccept(socket);
      if (this.#stopping) return;
    }
  }
}
