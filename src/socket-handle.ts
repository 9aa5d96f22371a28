/**
 * A socket imported from a token: a raw OS handle that this process owns until it is adopted by
 * Node (`toNetServer()` / `toNetSocket()`) or closed. Either happens once.
 */
import * as net from 'node:net';
import { invalidArgType, SocketHandoffError } from './errors';

/** What the platform backend does for a SocketHandle; injected so that tests can use a fake. */
export interface SocketHandleOps {
  close(handle: bigint): void;
  adoptServer(handle: bigint): net.Server;
  adoptSocket(handle: bigint, options: AdoptSocketOptions): net.Socket;
  adoptHandoverServer(handle: bigint): net.Server;
}

/** Options of toNetSocket(). */
export interface AdoptSocketOptions {
  /** As net.Socket's allowHalfOpen: keep the writable side open after the peer ends. Default false. */
  allowHalfOpen?: boolean;
}

/** Facts about an imported socket, read from the OS right after the import. */
export interface SocketHandleInfo {
  /** The raw SOCKET value. */
  handle: bigint;
  /** Address family, e.g. AF_INET (2) or AF_INET6 (23 on Windows). */
  family: number;
  /** Socket type, e.g. SOCK_STREAM (1) or SOCK_DGRAM (2). */
  type: number;
  /** Protocol, e.g. IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  protocol: number;
  /** True when the socket is listening (SO_ACCEPTCONN). */
  listening: boolean;
}

const SOCK_STREAM = 1;

/** An imported socket. Adopt it as a Node object, or close it; a second use throws `ERR_HANDLE_CONSUMED`. */
export class SocketHandle implements SocketHandleInfo {
  readonly handle: bigint;
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly listening: boolean;
  #state: 'open' | 'adopted' | 'closed' = 'open';
  readonly #ops: SocketHandleOps;

  constructor(info: SocketHandleInfo, ops: SocketHandleOps) {
    this.handle = info.handle;
    this.family = info.family;
    this.type = info.type;
    this.protocol = info.protocol;
    this.listening = info.listening;
    this.#ops = ops;
  }

  /** 'open' until adopted or closed. */
  get state(): 'open' | 'adopted' | 'closed' {
    return this.#state;
  }

  /**
   * Adopts a listening TCP socket as a working `net.Server` (already listening).
   * @throws SocketHandoffError `ERR_HANDLE_CONSUMED`, `ERR_NOT_LISTENING`, `ERR_UNSUPPORTED_SOCKET_TYPE`
   * @example const server = importSocket(token).toNetServer((socket) => socket.end('hi\n'));
   */
  toNetServer(connectionListener?: (socket: net.Socket) => void): net.Server {
    return this.#adoptListener('toNetServer', (h) => this.#ops.adoptServer(h), connectionListener);
  }

  /**
   * Adopts a listening TCP socket as a HandoverServer: a `net.Server` that accepts on a path it
   * controls, so it can later be handed over again without losing a connection.
   * @throws SocketHandoffError `ERR_HANDLE_CONSUMED`, `ERR_NOT_LISTENING`, `ERR_UNSUPPORTED_SOCKET_TYPE`
   */
  toHandoverServer(connectionListener?: (socket: net.Socket) => void): net.Server {
    return this.#adoptListener('toHandoverServer', (h) => this.#ops.adoptHandoverServer(h), connectionListener);
  }

  /** True for a stream (TCP) socket, the only kind Node can adopt. */
  get isStream(): boolean {
    return this.type === SOCK_STREAM;
  }

  /**
   * Adopts a connected TCP socket as a working `net.Socket`; it starts reading at once.
   * `options.allowHalfOpen` is net.Socket's (default false).
   * @throws SocketHandoffError `ERR_HANDLE_CONSUMED`, `ERR_NOT_CONNECTED`, `ERR_UNSUPPORTED_SOCKET_TYPE`
   * @example importSocket(token).toNetSocket().on('data', (chunk) => console.log(chunk.length));
   */
  toNetSocket(options: AdoptSocketOptions = {}): net.Socket {
    this.#checkOpen('toNetSocket');
    this.#checkStream('toNetSocket');
    if (this.listening) {
      throw new SocketHandoffError('ERR_NOT_CONNECTED', 'toNetSocket() needs a connected socket; this one is listening: use toNetServer()');
    }
    if (options.allowHalfOpen !== undefined && typeof options.allowHalfOpen !== 'boolean') {
      throw invalidArgType('options.allowHalfOpen', 'a boolean', options.allowHalfOpen);
    }
    const socket = this.#ops.adoptSocket(this.handle, { allowHalfOpen: options.allowHalfOpen === true });
    this.#state = 'adopted';
    return socket;
  }

  /**
   * Closes the socket without adopting it (closesocket). Other processes' copies stay open.
   * @throws SocketHandoffError `ERR_HANDLE_CONSUMED` if already adopted or closed.
   */
  close(): void {
    this.#checkOpen('close');
    this.#state = 'closed';
    this.#ops.close(this.handle);
  }

  #adoptListener(what: string, adopt: (handle: bigint) => net.Server, connectionListener?: (socket: net.Socket) => void): net.Server {
    this.#checkOpen(what);
    this.#checkStream(what);
    if (!this.listening) {
      throw new SocketHandoffError('ERR_NOT_LISTENING', `${what}() needs a listening socket; this one is connected: use toNetSocket()`);
    }
    const server = adopt(this.handle);
    this.#state = 'adopted';
    if (connectionListener) server.on('connection', connectionListener);
    return server;
  }

  #checkOpen(what: string): void {
    if (this.#state !== 'open') {
      throw new SocketHandoffError('ERR_HANDLE_CONSUMED', `${what}(): this SocketHandle was already ${this.#state}`);
    }
  }

  #checkStream(what: string): void {
    if (!this.isStream) {
      throw new SocketHandoffError(
        'ERR_UNSUPPORTED_SOCKET_TYPE',
        `${what}() adopts TCP sockets only; this socket has type ${this.type}. Use .handle with your own binding, or close() it.`,
      );
    }
  }
}
