/**
 * One channel connection: a byte stream in, whole messages out. Emits 'message' for each frame,
 * 'protocolError' (a FrameError) once when the peer breaks the framing, and 'close'.
 */
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { encodeFrame, FrameDecoder, type FrameError } from './frame-codec';

export class FrameConnection extends EventEmitter {
  readonly socket: net.Socket;
  readonly #decoder: FrameDecoder;
  readonly #maxFrameSize: number;
  #failed = false;

  constructor(socket: net.Socket, maxFrameSize: number) {
    super();
    this.socket = socket;
    this.#maxFrameSize = maxFrameSize;
    this.#decoder = new FrameDecoder(maxFrameSize);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // A reset pipe is an ordinary way for a peer to go away; 'close' follows and says it.
    socket.on('error', (err) => this.emit('transportError', err));
    socket.on('close', () => this.emit('close'));
  }

  /** True while frames can still be written. */
  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** Writes one message; false if the connection is already gone. */
  send(message: object): boolean {
    if (!this.open) return false;
    this.socket.write(encodeFrame(message, this.#maxFrameSize));
    return true;
  }

  /** Sends a last message (if any), then closes; never waits longer than a second for the peer. */
  close(lastMessage?: object): void {
    if (lastMessage && this.open) this.socket.end(encodeFrame(lastMessage, this.#maxFrameSize));
    else this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    if (this.#failed) return;
    let messages: Record<string, unknown>[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      this.#failed = true;
      this.emit('protocolError', err as FrameError);
      return;
    }
    for (const message of messages) {
      if (this.socket.destroyed) return;
      this.emit('message', message);
    }
  }
}
