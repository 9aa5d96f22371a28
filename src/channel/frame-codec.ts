/**
 * Frames of the hand-off channel (docs/protocol.md): a 4-byte big-endian length, then that many
 * bytes of one UTF-8 JSON object. Platform-free, so any language can speak it and the parser can
 * be fuzzed anywhere.
 */
import { SocketHandoffError } from '../errors';

/** Largest frame body accepted (1 MiB): a token is 840 bytes; the rest is meta and head. */
export const MAX_FRAME_SIZE = 1024 * 1024;
const HEADER_SIZE = 4;

/** A frame that breaks the protocol. `code` says how; the connection is closed afterwards. */
export class FrameError extends SocketHandoffError {
  override get name(): string {
    return 'FrameError';
  }
}

/** Strict UTF-8 (a malformed byte throws). One for every frame: decode() without `stream` keeps no state. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes one message as a frame: a message object, or its JSON text already serialised. */
export function encodeFrame(message: object | string, maxSize = MAX_FRAME_SIZE): Buffer {
  const json = typeof message === 'string' ? message : JSON.stringify(message);
  const size = Buffer.byteLength(json, 'utf8');
  if (size > maxSize) {
    throw new FrameError('ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${maxSize} bytes`);
  }
  const frame = Buffer.allocUnsafe(HEADER_SIZE + size);
  frame.writeUInt32BE(size, 0);
  frame.write(json, HEADER_SIZE, 'utf8');
  return frame;
}

/**
 * Incremental parser: push() bytes as they arrive, get whole messages back. After it throws a
 * FrameError it stays failed; the caller closes the connection.
 */
export class FrameDecoder {
  readonly #maxSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed: FrameError | undefined;
  /** Stream offset of the first byte not yet part of a whole frame. */
  #consumed = 0;

  constructor(maxSize = MAX_FRAME_SIZE) {
    this.#maxSize = maxSize;
  }

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** Adds bytes; returns every message completed by them, in order. */
  push(chunk: Buffer): Record<string, unknown>[] {
    return this.pushFrames(chunk).map((frame) => frame.message);
  }

  /** As push(), with the stream offset at which each frame starts (its length prefix). */
  pushFrames(chunk: Buffer): { message: Record<string, unknown>; start: number }[] {
    if (this.#failed) throw this.#failed;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: { message: Record<string, unknown>; start: number }[] = [];
    try {
      for (;;) {
        const start = this.#consumed;
        const message = this.#next();
        if (message === undefined) break;
        frames.push({ message, start });
      }
    } catch (err) {
      this.#failed = err as FrameError;
      throw err;
    }
    return frames;
  }

  #next(): Record<string, unknown> | undefined {
    if (this.#buffered < HEADER_SIZE) return undefined;
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    const size = all.readUInt32BE(0);
    if (size === 0) throw new FrameError('ERR_MALFORMED_FRAME', 'frame with an empty body');
    if (size > this.#maxSize) {
      throw new FrameError('ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the limit of ${this.#maxSize} bytes`);
    }
    if (this.#buffered < HEADER_SIZE + size) return undefined;
    const body = all.subarray(HEADER_SIZE, HEADER_SIZE + size);
    const rest = all.subarray(HEADER_SIZE + size);
    this.#chunks = rest.length ? [rest] : [];
    this.#buffered = rest.length;
    this.#consumed += HEADER_SIZE + size;
    return parseBody(body);
  }
}

function parseBody(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(body));
  } catch (err) {
    throw new FrameError('ERR_MALFORMED_FRAME', `frame body is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FrameError('ERR_MALFORMED_FRAME', 'frame body is not a JSON object');
  }
  return value as Record<string, unknown>;
}
