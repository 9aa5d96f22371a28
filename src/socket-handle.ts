/**
 * A socket this process received (imported from a token on Windows, taken from SCM_RIGHTS on Linux):
 * a raw OS socket that this process owns until it is adopted by Node (`toNetServer()` /
 * `toNetSocket()` / `toHandoverServer()`) or closed. Either happens once.
 */
import type * as net from 'node:net';
import { invalidArgType, SocketHandoffError } from './errors';
import { HandoverServer } from './handover-server';
import { platform } from './platform';
import type { SocketHandleInfo } from './platform-api';

export type { SocketHandleInfo };

/**
 * What a SocketHandle asks of the platform; injected so that tests can use a fake.
 * @internal
 */
export interface SocketHandleOps {
  close(handle: bigint): void;
  adoptServer(handle: bigint): net.Server;
  adoptSocket(handle: bigint, options: AdoptSocketOptions): net.Socket;
  adoptHandoverServer(handle: bigint): HandoverServer;
}

/** Options of toNetSocket(). */
export interface AdoptSocketOptions {
  /** As net.Socket's allowHalfOpen: keep the writable side open after the peer ends. Default false. */
  allowHalfOpen?: boolean;
}

const SOCK_STREAM = 1;

/** The platform's operations, for every SocketHandle made from what the platform returned. */
function platformOps(): SocketHandleOps {
  const p = platform();
  return {
    close: (handle) => p.closeSocket(handle),
    adoptServer: (handle) => p.adoptServer(handle),
    adoptSocket: (handle, { allowHalfOpen }) => p.adoptSocket(handle, allowHalfOpen === true),
    adoptHandoverServer: (handle) => HandoverServer.adopt(handle),
  };
}

/** A SocketHandle for a raw socket the platform imported or received; it owns the socket. @internal */
export function socketHandleFrom(info: SocketHandleInfo): SocketHandle {
  return SocketHandle.create(info, platformOps());
}

/** An imported socket. Adopt it as a Node object, or close it; a second use throws `ERR_HANDLE_CONSUMED`. */
export class SocketHandle implements SocketHandleInfo {
  readonly handle: bigint;
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
  readonly listening: boolean;
  #state: 'open' | 'adopted' | 'closed' = 'open';
  readonly #ops: SocketHandleOps;

  /** SocketHandles come from importSocket(), socket_wsaprotocol_info_import() and the channel. */
  private constructor(info: SocketHandleInfo, ops: SocketHandleOps) {
    this.handle = info.handle;
    this.family = info.family;
    this.type = info.type;
    this.protocol = info.protocol;
    this.listening = info.listening;
    this.#ops = ops;
  }

  /** @internal */
  static create(info: SocketHandleInfo, ops: SocketHandleOps): SocketHandle {
    return new SocketHandle(info, ops);
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
  toHandoverServer(connectionListener?: (socket: net.Socket) => void): HandoverServer {
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
   * Closes the socket without adopting it (closesocket() on Windows, close() on Linux). Other
   * processes' copies stay open.
   * @throws SocketHandoffError `ERR_HANDLE_CONSUMED` if already adopted or closed.
   */
  close(): void {
    this.#checkOpen('close');
    this.#state = 'closed';
    this.#ops.close(this.handle);
  }

  #adoptListener<S extends net.Server>(what: string, adopt: (handle: bigint) => S, connectionListener?: (socket: net.Socket) => void): S {
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
