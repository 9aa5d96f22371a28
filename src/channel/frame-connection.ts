/**
 * One channel connection: a byte stream in, whole messages out. Emits 'message' (message,
 * descriptors) for each frame, 'batchEnd' after the frames read together (what their listeners
 * wrote meanwhile has then gone to the OS, in as few writes as possible), 'protocolError' (a coded
 * error) once when the peer breaks the framing, 'transportError' and 'close'.
 *
 * Descriptors (Linux) arrive with the read that holds the first byte of the frame they were sent
 * with: the kernel attaches them to the first byte of the sendmsg() and ends a read right after it.
 * So a descriptor belongs to the `socket` frame that starts inside the bytes it came with. One
 * that arrives anywhere else breaks the protocol; every descriptor not handed on is closed.
 * Descriptors this process could not take in (the link's `descriptorsLost`) are bound the same
 * way: the `socket` frame they belonged to is emitted with `{ descriptorsLost: true }`, so that the
 * receiver can refuse that one hand-off and keep the connection.
 */
import { EventEmitter } from 'node:events';
import { SocketHandoffError } from '../errors';
import { encodeFrame, FrameDecoder, FrameError } from './frame-codec';
import type { ChannelLink, ReceivedDescriptor } from './transport';

/** What a frame's 'message' event says besides the message and its descriptors. */
export interface FrameFacts {
  /** Descriptors sent with this socket frame could not be installed in this process. */
  descriptorsLost: boolean;
}

interface PendingDescriptor {
  /** Undefined for a marker: descriptors sent with these bytes were lost on the way in. */
  descriptor: ReceivedDescriptor | undefined;
  /** Stream offsets of the bytes it arrived with: [start, end). */
  start: number;
  end: number;
}

export class FrameConnection extends EventEmitter {
  readonly link: ChannelLink;
  readonly #decoder: FrameDecoder;
  readonly #maxFrameSize: number;
  readonly #descriptors: PendingDescriptor[] = [];
  #received = 0;
  #failed = false;

  constructor(link: ChannelLink, maxFrameSize: number) {
    super();
    this.link = link;
    this.#maxFrameSize = maxFrameSize;
    this.#decoder = new FrameDecoder(maxFrameSize);
    link.on('data', (chunk: Buffer, descriptors?: ReceivedDescriptor[], descriptorsLost?: boolean) => {
      this.#onData(chunk, descriptors, descriptorsLost === true);
      if (link.endsReadBursts !== true) this.emit('batchEnd');
    });
    if (link.endsReadBursts === true) link.on('readEnd', () => this.emit('batchEnd'));
    // A reset pipe is an ordinary way for a peer to go away; 'close' follows and says it.
    // A coded error from the link itself (e.g. truncated descriptors) is the peer breaking the protocol.
    link.on('error', (err: Error) => {
      if (err instanceof SocketHandoffError && err.code.startsWith('ERR_')) this.#fail(err);
      else this.emit('transportError', err);
    });
    link.on('close', () => {
      this.#closeDescriptors();
      this.emit('close');
    });
  }

  /** True while frames can still be written. */
  get open(): boolean {
    return !this.link.destroyed && this.link.writable;
  }

  /**
   * Writes one message (an object, or its JSON text), with a copy of `descriptor` attached if
   * given; false if the connection is already gone.
   */
  send(message: object | string, descriptor?: number): boolean {
    const frame = encodeFrame(message, this.#maxFrameSize);
    if (descriptor === undefined) {
      if (!this.open) return false;
      this.link.write(frame);
      // A link that writes synchronously (Linux) is destroyed at once when the write fails.
      return !this.link.destroyed;
    }
    if (!this.link.writeWithDescriptor) throw new SocketHandoffError('ERR_UNSUPPORTED_PLATFORM', 'this channel cannot carry descriptors');
    return this.link.writeWithDescriptor(frame, descriptor);
  }

  /** Sends a last message (if any), then closes; never waits longer than a second for the peer. */
  close(lastMessage?: object): void {
    if (lastMessage && this.open) this.link.end(encodeFrame(lastMessage, this.#maxFrameSize));
    else this.link.end();
    setTimeout(() => this.link.destroy(), 1000).unref();
  }

  destroy(): void {
    this.link.destroy();
  }

  #onData(chunk: Buffer, descriptors: ReceivedDescriptor[] = [], descriptorsLost = false): void {
    const start = this.#received;
    this.#received += chunk.length;
    if (this.#failed) {
      for (const descriptor of descriptors) descriptor.close();
      return;
    }
    for (const descriptor of descriptors) this.#descriptors.push({ descriptor, start, end: this.#received });
    if (descriptorsLost) this.#descriptors.push({ descriptor: undefined, start, end: this.#received });
    let frames;
    try {
      frames = this.#decoder.pushFrames(chunk);
    } catch (err) {
      this.#fail(err as FrameError);
      return;
    }
    // The replies to several frames read at once (acks, commits) leave in one write where writes
    // are queued (a pipe write costs a system call and, under Wine, a wineserver request).
    const batch = frames.length > 1 && this.link.cork !== undefined;
    if (batch) this.link.cork?.();
    try {
      for (const frame of frames) {
        if (this.link.destroyed || this.#failed) return;
        const own = this.#descriptorsOf(frame.start, frame.message.type === 'socket');
        if (own === undefined) return;
        const facts: FrameFacts = { descriptorsLost: own.lost };
        this.emit('message', frame.message, own.descriptors, facts);
      }
    } finally {
      if (batch) this.link.uncork?.();
    }
  }

  /**
   * For a socket frame starting at `start`: the descriptors that came with its first byte. Other
   * frames claim none (a descriptor's read may also hold the ends of earlier frames). Undefined
   * after a violation: a descriptor that came with bytes no socket frame starts in.
   */
  #descriptorsOf(start: number, isSocketFrame: boolean): { descriptors: ReceivedDescriptor[]; lost: boolean } | undefined {
    if (this.#descriptors.length > 0 && this.#descriptors[0].end <= start) {
      this.#fail(new FrameError('ERR_MALFORMED_FRAME', 'a descriptor arrived without a socket frame starting with it'));
      return undefined;
    }
    const own = { descriptors: [] as ReceivedDescriptor[], lost: false };
    if (!isSocketFrame) return own;
    while (this.#descriptors.length > 0 && this.#descriptors[0].start <= start) {
      const { descriptor } = this.#descriptors.shift() as PendingDescriptor;
      if (descriptor === undefined) own.lost = true;
      else own.descriptors.push(descriptor);
    }
    return own;
  }

  #fail(err: SocketHandoffError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#closeDescriptors();
    this.emit('protocolError', err);
  }

  #closeDescriptors(): void {
    for (const pending of this.#descriptors.splice(0)) pending.descriptor?.close();
  }
}
