/** The public types of WebSocket migration; they do not depend on the ws package. */
import type * as net from 'node:net';

/**
 * A minimal view of a `ws` WebSocket, so that this package's types do not depend on `ws`.
 * Pass the `WebSocket` objects of `ws` 8.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
}

/** A WebSocket taken away from `ws`: what travels, and how to finish or undo. See detachWebSocket(). */
export interface DetachedWebSocket {
  /** The connection. ws no longer reads from it or watches it; it is paused. */
  readonly socket: net.Socket;
  /**
   * Bytes already read from `socket` that ws had not turned into messages yet: the start of a
   * frame, and whatever Node had buffered. The next owner must parse them before anything else
   * (give them as `head` to send() or to attachWebSocket()).
   */
  readonly head: Buffer;
  /** The subprotocol agreed in the handshake (`''` if none); attachWebSocket() takes it as `protocol`. */
  readonly protocol: string;
  /** The WebSocket's `binaryType`; attachWebSocket() takes it as `binaryType`. */
  readonly binaryType: string;
  /**
   * Undo: gives the socket back to ws, which carries on as if nothing happened (for when the
   * hand-off failed). Bytes put back into `socket` by whoever tried to send it are read again.
   */
  reattach(): void;
  /**
   * Finish: the socket now lives in another process. This process's copy is destroyed (never
   * ended), and the WebSocket here becomes CLOSED and emits 'close' (code 1006) so that whatever
   * tracks it (a WebSocketServer's `clients`) forgets it. The peer sees nothing.
   */
  release(): void;
}

/** Options of detachWebSocket() and sendWebSocket(). */
export interface DetachOptions {
  /**
   * How long to wait (ms) for the end of a message the peer is in the middle of sending, and for
   * ws to finish writing. Default 5000. On timeout the WebSocket is given back and the call
   * rejects with `ERR_HANDOFF_TIMEOUT`.
   */
  timeout?: number;
}

/** Options of sendWebSocket(). */
export interface SendWebSocketOptions extends DetachOptions {
  /**
   * Any JSON value for the receiver's `info.meta`. A function is called once the WebSocket is
   * detached (no message is delivered after that), so that it can report the final state.
   */
  meta?: ((detached: DetachedWebSocket) => unknown) | object | string | number | boolean | null;
}

/** Options of attachWebSocket(): the state to restore, and ws's own server options. */
export interface AttachOptions {
  /** Bytes to parse before reading the socket: DetachedWebSocket.head, if the transport did not put it back itself. */
  head?: Buffer | Uint8Array;
  /** The subprotocol agreed in the handshake (`ws.protocol` before the move). Default `''`. */
  protocol?: string;
  /** `binaryType` of the new WebSocket. Default `'nodebuffer'`. */
  binaryType?: string;
  /** As WebSocketServer's option of the same name. Default true. */
  allowSynchronousEvents?: boolean;
  /** As WebSocketServer's option of the same name. Default true. */
  autoPong?: boolean;
  /** As WebSocketServer's option of the same name. Default 100 MiB. */
  maxPayload?: number;
  /** As WebSocketServer's option of the same name. Default false. */
  skipUTF8Validation?: boolean;
}

/** The WebSocket class of `ws` 8 (`require('ws').WebSocket`), or a subclass. */
export type WebSocketClass<T> = new (address: null, ...rest: any[]) => T; // eslint-disable-line @typescript-eslint/no-explicit-any
