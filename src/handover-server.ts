/**
 * A listening server that can be handed to another process without losing a connection.
 *
 * A `net.Server` accepts through libuv, which keeps AcceptEx requests outstanding on Windows;
 * connections the kernel completed into them are reset when the old process closes its listener
 * after a hand-over. A HandoverServer accepts on a path it controls (select() then accept() on
 * Windows, poll then accept4() on Linux), so `close()` leaves nothing pending in the kernel and every
 * connection not yet accepted waits in the backlog for the successor. On Linux a plain net.Server
 * would hand over without loss too (one accept queue in the kernel for every holder); HandoverServer
 * gives the same API on both.
 *
 * It is a `net.Server` and behaves as one where it says so: listen failures are 'error' events,
 * `listen()` on a listening server throws ERR_SERVER_ALREADY_LISTEN, `close()` emits 'close' once the
 * connections it accepted have ended, `getConnections()`, `maxConnections` (with 'drop') and
 * `ref()`/`unref()` work. What it does not do (host names, pipes, `listen({ fd })`…) is in docs/api.md.
 */
import * as net from 'node:net';
import { registerControlledListener } from './controlled-listener';
import { rawHandoffOf, type RawHandoff } from './raw-handoff';
import type { AddressInfo } from './endpoint-key';
import { invalidArgType, invalidArgValue, SocketHandoffError } from './errors';
import { platform } from './platform';
import type { AcceptLoop } from './platform-api';

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
  /**
   * The fast front: every accepted connection goes straight to the receiver behind this sender
   * (from openSender()) as a raw socket, never built into a net.Socket here. With several senders,
   * round robin, skipping one whose channel is closed and trying the next when one refuses. A
   * connection no receiver takes is emitted as an ordinary 'connection', intact (nothing was read).
   */
  sendTo?: HandoffSender | readonly HandoffSender[];
}

/** A SocketSender from openSender() (the type names only what `sendTo` is checked for). */
export interface HandoffSender {
  readonly receiverPid: number;
  readonly pending: number;
}

const DEFAULTS = { port: 0, host: '127.0.0.1', backlog: 0x7fffffff };

interface ListenTarget {
  port: number;
  host: string;
  backlog: number;
}

function checkListenTarget(options: { port?: unknown; host?: unknown; backlog?: unknown }): ListenTarget {
  const port = options.port ?? DEFAULTS.port;
  const host = options.host ?? DEFAULTS.host;
  const backlog = options.backlog ?? DEFAULTS.backlog;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgValue('options.port', 'an integer from 0 to 65535', port);
  if (typeof backlog !== 'number' || !Number.isInteger(backlog) || backlog < 1) throw invalidArgValue('options.backlog', 'a positive integer', backlog);
  if (typeof host !== 'string') throw invalidArgType('options.host', 'a string', host);
  if (net.isIP(host) === 0) throw invalidArgValue('options.host', 'an IPv4 or IPv6 address literal (no host names)', host);
  return { port, host, backlog };
}

/** net.Server's listen() arguments: (port?, host?, backlog?, cb?) or (options, cb?). */
function parseListenArgs(args: unknown[]): { target: ListenTarget; callback?: () => void } {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = callback ? args.slice(0, -1) : args;
  const [first, second, third] = rest;
  if (first !== null && typeof first === 'object') {
    const options = first as Record<string, unknown>;
    for (const unsupported of ['path', 'fd', 'handle', '_handle', 'signal', 'exclusive', 'ipv6Only', 'reusePort']) {
      if (options[unsupported] !== undefined) {
        throw invalidArgValue(`options.${unsupported}`, 'absent: a HandoverServer listens on a TCP port of an address literal only', options[unsupported]);
      }
    }
    return { target: checkListenTarget(options), callback };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) {
    throw invalidArgValue('port', 'a port number: a HandoverServer does not listen on pipes or Unix sockets', first);
  }
  // As net.Server: listen(port, backlog, callback) when the second argument is a number.
  const [host, backlog] = typeof second === 'number' ? [undefined, second] : [second, third];
  return {
    target: checkListenTarget({ port: first === undefined || first === null ? undefined : Number(first), host: host ?? undefined, backlog: backlog ?? undefined }),
    callback,
  };
}

function checkSendTo(sendTo: unknown): RawHandoff[] {
  if (sendTo === undefined) return [];
  const list = Array.isArray(sendTo) ? sendTo : [sendTo];
  if (list.length === 0) throw invalidArgValue('options.sendTo', 'a SocketSender from openSender(), or a non-empty array of them', sendTo);
  return list.map((sender, i) => {
    const handoff = rawHandoffOf(sender);
    if (handoff === undefined) throw invalidArgType(Array.isArray(sendTo) ? `options.sendTo[${i}]` : 'options.sendTo', 'a SocketSender from openSender()', sender);
    return handoff;
  });
}

/** Node's own code and message (lib/internal/errors.js), so code written for net.Server keeps working. */
const serverNotRunning = () => new SocketHandoffError('ERR_SERVER_NOT_RUNNING', 'Server is not running.');
const serverAlreadyListen = () => new SocketHandoffError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');

export class HandoverServer extends net.Server {
  #socket: bigint | undefined;
  #accepting: AcceptLoop | undefined;
  #address: AddressInfo | undefined;
  /** Open sockets this server accepted and emitted; 'close' waits for them. */
  #connections = 0;
  /** Closes of earlier listening sockets still in progress (Windows: until select() returns). */
  #stopping = 0;
  #refed = true;
  /** Settles once this process's copy of the last listening socket is closed. */
  #listenerClosed: Promise<void> = Promise.resolve();
  /** `sendTo`: where accepted connections go first, in turn. */
  #sendTo: RawHandoff[] = [];
  #nextSender = 0;
  readonly #allowHalfOpen: boolean;

  private constructor(allowHalfOpen: boolean, connectionListener?: (socket: net.Socket) => void) {
    super();
    this.#allowHalfOpen = allowHalfOpen;
    if (connectionListener) this.on('connection', connectionListener);
    registerControlledListener(this, () => this.#socket);
  }

  /**
   * Creates a listening socket with Winsock or libc (never libuv's accept path) and starts accepting,
   * as `net.createServer(listener).listen(…)` does: 'listening' follows on a later tick, and a
   * failure to listen is an 'error' event (WinsockError `WSAEADDRINUSE`, PosixError `EADDRINUSE`…;
   * `ERR_UNSUPPORTED_PLATFORM` off Windows and Linux, `ERR_NOT_MAIN_THREAD` in a worker on Linux).
   * @throws SocketHandoffError `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE` (bad options, at once, as net does).
   * @example const server = HandoverServer.listen({ port: 8080 }, (socket) => httpServer.emit('connection', socket));
   */
  static listen(options: HandoverListenOptions = {}, connectionListener?: (socket: net.Socket) => void): HandoverServer {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options);
    const target = checkListenTarget(options);
    if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== 'boolean') {
      throw invalidArgType('options.allowHalfOpen', 'a boolean', options.allowHalfOpen);
    }
    const sendTo = checkSendTo(options.sendTo);
    const server = new HandoverServer(options.allowHalfOpen === true, connectionListener);
    server.#sendTo = sendTo;
    server.#listenOn(target);
    return server;
  }

  /**
   * Adopts a listening raw socket (SocketHandle#toHandoverServer, the channel). On failure the
   * socket is still the caller's.
   * @internal
   */
  static adopt(socket: bigint, deferAccept = false): HandoverServer {
    const server = new HandoverServer(false);
    server.#start(socket, deferAccept);
    return server;
  }

  /**
   * Starts the accept path of a server adopted with `deferAccept` (an Upgrader's successor before
   * its ready()); does nothing if it accepts already or was closed.
   * @internal
   */
  startAccepting(): void {
    const socket = this.#socket;
    if (socket === undefined || this.#accepting !== undefined) return;
    this.#accepting = this.#acceptLoop(socket);
  }

  /**
   * net.Server's listen(port?, host?, backlog?, callback?) or listen(options, callback?), for a
   * HandoverServer that is not listening (closed, or whose listen failed): TCP on an address literal
   * only, host '127.0.0.1' by default.
   * @throws SocketHandoffError `ERR_SERVER_ALREADY_LISTEN` while it listens; `ERR_INVALID_ARG_VALUE` for pipes, fds, handles, host names.
   */
  override listen(port?: number, host?: string, backlog?: number, listeningListener?: () => void): this;
  override listen(port?: number, host?: string, listeningListener?: () => void): this;
  override listen(port?: number, backlog?: number, listeningListener?: () => void): this;
  override listen(port?: number, listeningListener?: () => void): this;
  override listen(options: Pick<HandoverListenOptions, 'port' | 'host' | 'backlog'>, listeningListener?: () => void): this;
  /** net.Server's other forms (a path, a handle, `{ fd }`…) type-check as on net.Server but throw `ERR_INVALID_ARG_VALUE`. */
  override listen(...args: unknown[]): this;
  override listen(...args: unknown[]): this {
    if (this.#socket !== undefined) throw serverAlreadyListen();
    const { target, callback } = parseListenArgs(args);
    if (callback) this.once('listening', callback);
    this.#listenOn(target);
    return this;
  }

  /** The raw socket while listening (a SOCKET on Windows, a descriptor on Linux); exportSocket() and the channel hand this over. */
  get handle(): bigint | undefined {
    return this.#socket;
  }

  override address(): AddressInfo | null {
    return this.#socket === undefined ? null : (this.#address ?? null);
  }

  /**
   * Stops accepting, then closes this process's copy of the listening socket. Connections not yet
   * accepted stay queued for other holders of the socket (a successor); none is reset. As with
   * net.Server, 'close' (and `callback`) follows once the connections this server accepted have
   * ended; `callback` gets ERR_SERVER_NOT_RUNNING if it was not listening.
   */
  override close(callback?: (err?: Error) => void): this {
    if (typeof callback === 'function') {
      if (this.#socket === undefined) this.once('close', () => callback(serverNotRunning()));
      else this.once('close', callback);
    }
    const socket = this.#socket;
    const loop = this.#accepting;
    this.#socket = undefined;
    this.#accepting = undefined;
    if (socket !== undefined && loop === undefined) {
      // Adopted with deferAccept and never started: nothing accepts on it.
      try {
        platform().closeSocket(socket);
      } catch (err) {
        this.emit('error', err);
      }
    } else if (socket !== undefined && loop !== undefined) {
      this.#stopping++;
      this.#listenerClosed = loop.stop().then(() => {
        this.#stopping--;
        try {
          platform().closeSocket(socket);
        } catch (err) {
          this.emit('error', err);
        }
        this.#emitCloseIfDrained();
      });
      return this;
    }
    this.#emitCloseIfDrained();
    return this;
  }

  /**
   * Closes as close() does, and resolves once this process's copy of the listening socket is
   * closed, without waiting, as 'close' does, for the connections it accepted (an Upgrader retiring
   * drains those itself).
   * @internal
   */
  closeListening(): Promise<void> {
    if (this.#socket !== undefined) this.close();
    return this.#listenerClosed;
  }

  /** As net.Server's: the number of open connections this server accepted, to `callback` on a later tick. */
  override getConnections(callback: (error: Error | null, count: number) => void): this {
    process.nextTick(callback, null, this.#connections);
    return this;
  }

  /** As net.Server's: while listening, the accept path no longer keeps the event loop alive. */
  override unref(): this {
    this.#refed = false;
    this.#accepting?.unref();
    return this;
  }

  override ref(): this {
    this.#refed = true;
    this.#accepting?.ref();
    return this;
  }

  #listenOn(target: ListenTarget): void {
    let socket: bigint;
    try {
      socket = platform().listenSocket(target);
    } catch (err) {
      process.nextTick(() => this.emit('error', err));
      return;
    }
    try {
      this.#start(socket);
    } catch (err) {
      platform().closeSocket(socket);
      process.nextTick(() => this.emit('error', err));
    }
  }

  /** Starts accepting on a listening raw socket (unless `deferAccept`); throws (the socket still the caller's) if it cannot. */
  #start(socket: bigint, deferAccept = false): void {
    const address = platform().localAddress(socket);
    const loop = deferAccept ? undefined : this.#acceptLoop(socket);
    this.#socket = socket;
    this.#accepting = loop;
    this.#address = address;
    process.nextTick(() => this.emit('listening'));
  }

  #acceptLoop(socket: bigint): AcceptLoop {
    const loop = platform().acceptLoop(
      socket,
      (accepted) => this.#onAccept(accepted),
      (err) => this.emit('error', err),
    );
    if (!this.#refed) loop.unref();
    return loop;
  }

  #onAccept(accepted: bigint): void {
    if (this.#sendTo.length === 0) {
      this.#emitAccepted(accepted);
      return;
    }
    const start = this.#nextSender;
    this.#nextSender = (start + 1) % this.#sendTo.length;
    this.#handOff(accepted, start, 0);
  }

  /**
   * `sendTo`: round robin from `start`, each connection walking the list once: a sender whose
   * channel is closed is skipped, one that refuses passes it on to the next; after the last, the
   * connection is this server's.
   */
  #handOff(raw: bigint, start: number, tried: number): void {
    const senders = this.#sendTo;
    for (; tried < senders.length; tried++) {
      const sender = senders[(start + tried) % senders.length];
      if (!sender.available()) continue;
      const next = tried + 1;
      sender.send(raw, this.#allowHalfOpen, () => platform().closeSocket(raw)).then(
        () => undefined,
        // Refused, timed out, or the receiver went away: the socket is still ours, untouched.
        () => this.#handOff(raw, start, next),
      );
      return;
    }
    this.#emitAccepted(raw);
  }

  #emitAccepted(accepted: bigint): void {
    let socket: net.Socket;
    try {
      socket = platform().adoptSocket(accepted, this.#allowHalfOpen);
    } catch (err) {
      platform().closeSocket(accepted);
      this.emit('error', err);
      return;
    }
    if (this.maxConnections != null && this.#connections >= this.maxConnections) {
      // As net.Server: the connection is closed at once and reported as 'drop'.
      const data = {
        localAddress: socket.localAddress,
        localPort: socket.localPort,
        localFamily: socket.localFamily,
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        remoteFamily: socket.remoteFamily,
      };
      socket.destroy();
      this.emit('drop', data);
      return;
    }
    this.#connections++;
    socket.once('close', () => {
      this.#connections--;
      if (this.#socket === undefined) this.#emitCloseIfDrained();
    });
    this.emit('connection', socket);
  }

  #emitCloseIfDrained(): void {
    if (this.#socket !== undefined || this.#connections > 0 || this.#stopping > 0) return;
    process.nextTick(() => this.emit('close'));
  }
}

// net.Server defines `listening` as a getter on its prototype (true when it has a libuv handle).
Object.defineProperty(HandoverServer.prototype, 'listening', {
  get(this: HandoverServer) {
    return this.handle !== undefined;
  },
  configurable: true,
});
