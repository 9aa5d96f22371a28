/**
 * The internals of ws 8 that moving a WebSocket relies on (lib/receiver.js, lib/websocket.js),
 * in one place. detachWebSocket() checks them at run time and refuses what it does not recognise.
 */
import type * as net from 'node:net';
import { SocketHandoffError } from '../errors';

// ws 8's Receiver states (lib/receiver.js).
export const GET_INFO = 0;
export const GET_PAYLOAD_LENGTH_16 = 1;
export const GET_PAYLOAD_LENGTH_64 = 2;
export const GET_MASK = 3;
export const GET_DATA = 4;
export const INFLATING = 5;
export const DEFER_EVENT = 6;

export const OPEN = 1;
export const CLOSING = 2;

export const SOCKET_EVENTS = ['data', 'end', 'close', 'error'] as const;
export type SocketEvent = (typeof SOCKET_EVENTS)[number];
export type Listener = (...args: unknown[]) => void;

/** The parts of ws 8's Receiver that are read here. */
export interface WsReceiver extends NodeJS.EventEmitter {
  _state: number;
  _fragmented: number;
  _bufferedBytes: number;
  _buffers: Buffer[];
  _payloadLength: number;
  _errored: boolean;
  writableLength: number;
  write(chunk: Buffer): boolean;
  _writableState: { needDrain: boolean; errorEmitted: boolean };
}

/** The parts of a ws 8 WebSocket that are used here. */
export interface WsInternals {
  readonly readyState: number;
  readonly bufferedAmount: number;
  _readyState: number;
  _isServer: boolean;
  _paused: boolean;
  _protocol: string;
  _binaryType: string;
  _extensions: Record<string, unknown>;
  _closeFrameReceived: boolean;
  _socket: net.Socket | null;
  _receiver: WsReceiver | null;
  _sender: { _bufferedBytes: number } | null;
  emitClose(): void;
}

/** ws's own listener for `event` on the socket (ws 8 names them socketOnData, socketOnEnd, …). */
export function wsListener(emitter: NodeJS.EventEmitter, event: string, name: string): Listener | undefined {
  return (emitter.listeners(event) as Listener[]).find((fn) => fn.name === name);
}

/** How many more bytes ws's parser needs before its state can change (never more than the current frame). */
export function bytesWanted(receiver: WsReceiver): number {
  switch (receiver._state) {
    case GET_INFO:
    case GET_PAYLOAD_LENGTH_16:
      return 2 - receiver._bufferedBytes;
    case GET_PAYLOAD_LENGTH_64:
      return 8 - receiver._bufferedBytes;
    case GET_MASK:
      return 4 - receiver._bufferedBytes;
    case GET_DATA:
      return receiver._payloadLength - receiver._bufferedBytes;
    default:
      return 0;
  }
}

/** Resolves with the next bytes of `socket`, at most `max`; the rest stays in the socket. */
export function readUpTo(socket: net.Socket, max: number, timeout: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, chunk?: Buffer) => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      if (err) reject(err);
      else resolve(chunk as Buffer);
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      done(undefined, chunk.subarray(0, max));
      // Paused and without our listener now, so the rest stays in the socket instead of coming straight back.
      if (chunk.length > max) socket.unshift(chunk.subarray(max));
    };
    const onEnd = () => done(new SocketHandoffError('ERR_SOCKET_CLOSED', 'the connection ended in the middle of a message'));
    const timer = setTimeout(
      () => done(new SocketHandoffError('ERR_HANDOFF_TIMEOUT', 'the peer did not finish the message it was sending in time')),
      Math.max(timeout, 0),
    );
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}
