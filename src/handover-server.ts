/**
 * A listening server that can be handed to another process without losing a connection.
 *
 * A `net.Server` accepts through libuv, which keeps AcceptEx requests outstanding on Windows;
 * connections the kernel completed into them are reset when the old process closes its listener
 * after a hand-over. A HandoverServer accepts on a path it controls (select() then accept() on
 * Windows, poll then accept4() on Linux), so `close()` leaves nothing pending in the kernel and every
 * connection not yet accepted waits in the backlog for the successor. It is a `net.Server` (it emits
 * 'connection' with `net.Socket`s, and `http.Server#emit('connection', socket)` serves them), but it
 * does not listen through libuv. On Linux a plain net.Server would hand over without loss too (one
 * accept queue in the kernel for every holder); HandoverServer gives the same API on both.
 */
import * as net from 'node:net';
import { invalidArgType, invalidArgValue } from './errors';
import type { AddressInfo } from './endpoint-key';
import { listenerBackend } from './platform';

/** Options of HandoverServer.listen(). */
export interface HandoverListenOptions {
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** An IPv4 or IPv6 address literal. Default '127.0.0.1'. */
  host?: string;
  /** Listen backlog. Default SOMAXCONN. */
  backlog?: number;
  /** As net.Server's allowHalfOpen, for the accepted sockets. Default false. */
  allowHalfOpen?: boolean;
}

const DEFAULTS = { port: 0, host: '127.0.0.1', backlog: 0x7fffffff, allowHalfOpen: false };

export class HandoverServer extends net.Server {
  #socket: bigint | undefined;
  #stopAccepting: (() => Promise<void>) | undefined;
  #address: AddressInfo | undefined;
  readonly #allowHalfOpen: boolean;

  /**
   * @internal use HandoverServer.listen() or SocketHandle#toHandoverServer(). `deferAccept`: listen
   * but take no connection until startAccepting() (an Upgrader's successor before its ready()).
   */
  constructor(socket: bigint, allowHalfOpen: boolean, connectionListener?: (socket: net.Socket) => void, deferAccept = false) {
    super();
    this.#socket = socket;
    this.#allowHalfOpen = allowHalfOpen;
    if (connectionListener) this.on('connection', connectionListener);
    this.#address = listenerBackend().localAddress(socket);
    if (!deferAccept) this.startAccepting();
    process.nextTick(() => this.emit('listening'));
  }

  /** @internal starts the accept path of a server made with `deferAccept` (once; no-op otherwise). */
  startAccepting(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#stopAccepting !== undefined) return;
    this.#stopAccepting = listenerBackend().acceptLoop(
      socket,
      (accepted) => this.#onAccept(accepted),
      (err) => this.emit('error', err),
    );
  }

  /**
   * Creates a listening socket with Winsock or libc (never libuv's accept path) and starts accepting.
   * @throws SocketHandoffError `ERR_UNSUPPORTED_PLATFORM` off Windows and Linux, argument codes;
   *   WinsockError (e.g. `WSAEADDRINUSE`) or PosixError (e.g. `EADDRINUSE`).
   * @example const server = HandoverServer.listen({ port: 8080 }, (socket) => httpServer.emit('connection', socket));
   */
  static listen(options: HandoverListenOptions = {}, connectionListener?: (socket: net.Socket) => void): HandoverServer {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options);
    const opts = { ...DEFAULTS, ...options };
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw invalidArgValue('options.port', 'an integer from 0 to 65535', opts.port);
    if (!Number.isInteger(opts.backlog) || opts.backlog < 1) throw invalidArgValue('options.backlog', 'a positive integer', opts.backlog);
    if (typeof opts.host !== 'string') throw invalidArgType('options.host', 'a string', opts.host);
    const socket = listenerBackend().listenSocket({ host: opts.host, port: opts.port, backlog: opts.backlog });
    return new HandoverServer(socket, opts.allowHalfOpen === true, connectionListener);
  }

  /** The raw SOCKET, while listening; exportSocket() and the channel hand this over. */
  get handle(): bigint | undefined {
    return this.#socket;
  }

  override address(): AddressInfo | null {
    return this.#socket === undefined ? null : (this.#address ?? null);
  }

  /**
   * Stops accepting, then closes this process's copy of the listening socket. Connections not yet
   * accepted stay queued for other holders of the socket (a successor); none is reset.
   */
  override close(callback?: (err?: Error) => void): this {
    const socket = this.#socket;
    const stop = this.#stopAccepting ?? (() => Promise.resolve()); // a deferred server never started accepting
    if (socket === undefined) {
      if (callback) process.nextTick(callback, Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' }));
      return this;
    }
    this.#socket = undefined;
    this.#stopAccepting = undefined;
    if (callback) this.once('close', callback);
    void stop().then(() => {
      listenerBackend().closeSocket(socket);
      this.emit('close');
    });
    return this;
  }

  #onAccept(accepted: bigint): void {
    let socket: net.Socket;
    try {
      socket = listenerBackend().adoptAccepted(accepted, this.#allowHalfOpen);
    } catch (err) {
      this.emit('error', err);
      return;
    }
    this.emit('connection', socket);
  }
}

// net.Server defines `listening` as a getter on its prototype (true when it has a libuv handle).
Object.defineProperty(HandoverServer.prototype, 'listening', {
  get(this: HandoverServer) {
    return this.handle !== undefined;
  },
  configurable: true,
});
