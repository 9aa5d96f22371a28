/**
 * The sending side of the hand-off channel. `send()` resolves only once the receiver has adopted
 * the socket; only then is this process's copy closed (destroy(), never end()). If the receiver
 * refuses, dies or does not answer in time, the socket is given back intact: reading resumes and
 * the bytes this side had buffered are put back in front.
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { invalidArgType, invalidArgValue, peerCode, SocketHandoffError } from '../errors';
import { resyncReading, takeReadableBuffer } from '../node-internals';
import { registerRawHandoff } from '../raw-handoff';
import { debug } from './debug';
import { FrameConnection } from './frame-connection';
import { monotonicMicros } from './clock';
import { checkReceiverHello, checkReceiverReply, chooseVersion, PROTOCOL_V2, secretProof, supportedVersions, type ReceiverHello } from './messages';
import { checkDelay, checkMaxFrameSize, checkName, checkOptionsObject, checkSecret, checkTimeout } from './options';
import { socketFormOf } from './socket-form';
import { channelTransport, type HandoffTransport, type ReceivedDescriptor, type SocketForm } from './transport';

/** Options of openSender(). */
export interface SenderOptions {
  /** Shared secret the receiver asks for, if it has one. */
  secret?: string;
  /** How long to wait for the channel and its handshake (ms). Default 5000. */
  connectTimeout?: number;
  /** How long each send() waits for the receiver's answer (ms). Default 10000. */
  ackTimeout?: number;
  /**
   * Protocol 2 (Linux): how long after a send the sender lets the receiver's answers gather before
   * it reads them all at once (ms). Default 5. While the receiver adopts a socket, its answer then
   * does not wake the sender to take the CPU from it, and one wake-up reads the answers of every
   * send made meanwhile; send() settles up to this much after the receiver adopted the socket.
   * 0 reads each answer as it comes (protocol 1 always does: it must commit at once).
   */
  ackReadDelay?: number;
  /** Largest frame sent (bytes). Default 1 MiB. */
  maxFrameSize?: number;
}

/** Options of send(). */
export interface SendOptions {
  /** Any JSON value, given to the receiver's onSocket as `info.meta`. */
  meta?: unknown;
  /** Bytes this process already consumed from the socket; the receiver's socket yields them first. */
  head?: Buffer | Uint8Array | string;
  /** Keep this process's copy open after the hand-off (a listener shared by both). */
  keepOpen?: boolean;
}

/** What send() resolves with. */
export interface SendResult {
  id: number;
  receiverPid: number;
}

const DEFAULTS = { connectTimeout: 5000, ackTimeout: 10000, ackReadDelay: 5 };

/** How long a sender waits: for each answer (ackTimeout), and before it reads answers (ackReadDelay; 0: at once). */
interface SenderTiming {
  ackTimeout: number;
  ackReadDelay: number;
}

interface Pending {
  resolve: (result: SendResult) => void;
  reject: (err: Error) => void;
  restore: () => void;
  /** Closes this process's copy once the receiver has the socket (nothing with keepOpen). */
  letGo: () => void;
  /** When this send gives up, in microseconds on the shared monotonic clock (clock.ts). */
  deadline: number;
}

const EMPTY = Buffer.alloc(0);
const NOTHING = (): void => undefined;

/**
 * `meta` as JSON text, serialised once: the frame carries this text. Throws ERR_INVALID_ARG_VALUE
 * when JSON cannot carry it (JSON.stringify throws on a cycle or a BigInt, and gives undefined for
 * a function or a symbol).
 */
function metaJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw invalidArgValue('options.meta', 'a JSON-serialisable value', value);
  return json;
}

function headBytes(head: unknown): Buffer {
  if (head === undefined) return EMPTY;
  if (typeof head === 'string') return Buffer.from(head, 'utf8');
  if (head instanceof Uint8Array) return Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  throw invalidArgType('options.head', 'a Buffer, a Uint8Array or a string', head);
}

/** A connection to one receiver. Many send() calls may be in flight at once. */
export class SocketSender extends EventEmitter {
  /** The receiver's pid, learnt in the handshake. */
  readonly receiverPid: number;
  /** The protocol version in use on this channel (docs/protocol.md): 2 on Linux, 1 on Windows or with a version-1 peer. */
  readonly protocolVersion: number;
  readonly #connection: FrameConnection;
  readonly #transport: HandoffTransport;
  readonly #ackTimeout: number;
  /** Milliseconds to let answers gather after a version-2 send; 0 when answers are read at once. */
  readonly #ackReadDelay: number;
  /** How sockets ride in the frames: what the receiver's hello asked for (socket-form.ts). */
  readonly #socketForm: SocketForm;
  /** In send order, so deadlines ascend: the first entry is always the next to expire. */
  readonly #pending = new Map<number, Pending>();
  /** Hand-offs this side gave up on (and aborted) whose answer has not come yet. */
  readonly #aborted = new Set<number>();
  /**
   * One timer for every pending send, armed for the earliest deadline. It is left armed when the
   * last answer comes (deadlines only grow, so it fires early at worst and re-arms for the next),
   * which spares one setTimeout() and clearTimeout() per send when sends come one at a time.
   */
  #timer: NodeJS.Timeout | undefined;
  #nextId = 1;
  #closed: SocketHandoffError | undefined;
  #draining = false;

  /** @internal use openSender() */
  static create(connection: FrameConnection, transport: HandoffTransport, hello: ReceiverHello, timing: SenderTiming, version: number): SocketSender {
    return new SocketSender(connection, transport, hello, timing, version);
  }

  private constructor(connection: FrameConnection, transport: HandoffTransport, hello: ReceiverHello, timing: SenderTiming, version: number) {
    super();
    this.receiverPid = hello.pid;
    this.protocolVersion = version;
    this.#connection = connection;
    this.#transport = transport;
    this.#ackTimeout = timing.ackTimeout;
    // Only version 2 may read late: version 1's receiver waits for the commit our read triggers.
    this.#ackReadDelay = version >= PROTOCOL_V2 && connection.link.deferReads !== undefined ? timing.ackReadDelay : 0;
    this.#socketForm = socketFormOf(hello);
    // A receiver never sends descriptors; one that came with a socket frame anyway is closed here, not leaked.
    registerRawHandoff(this, {
      send: (raw, allowHalfOpen, letGo) => {
        try {
          return this.#sendRaw(raw, allowHalfOpen, letGo);
        } catch (err) {
          return Promise.reject(err);
        }
      },
      available: () => this.#closed === undefined,
    });
    connection.on('message', (msg: Record<string, unknown>, descriptors: ReceivedDescriptor[] = []) => {
      for (const d of descriptors) d.close();
      this.#onMessage(msg);
    });
    connection.on('protocolError', (err: SocketHandoffError) => this.#shutDown(err));
    connection.on('close', () =>
      this.#shutDown(new SocketHandoffError('ERR_RECEIVER_GONE', `the receiver (pid ${this.receiverPid}) closed the channel`)),
    );
  }

  /**
   * Milliseconds the receiver's answers gather after a send before this side reads them: the
   * `ackReadDelay` option with protocol 2, 0 with protocol 1 (each answer is read as it comes).
   */
  get ackReadDelay(): number {
    return this.#ackReadDelay;
  }

  /** Number of sends waiting for the receiver's answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Hands `socket` (a connected net.Socket or a listening net.Server) to the receiver.
   * Resolves once the receiver adopted it; this process's copy is then closed unless `keepOpen`.
   * On failure the socket is given back as it was before the call (paused or flowing, every byte
   * still readable), so the caller can serve it or send it elsewhere.
   * @throws (rejects) `ERR_CHANNEL_CLOSED`, `ERR_HANDOFF_REFUSED` (`err.reason`: the receiver's code, e.g.
   *   `ERR_HANDOFF_DECLINED`, `ERR_RECEIVER_BUSY`), `ERR_HANDOFF_TIMEOUT`, `ERR_RECEIVER_GONE`,
   *   `ERR_FRAME_TOO_LARGE`, the argument codes, and every exportSocket() code.
   * @example await sender.send(socket, { head: requestHead, meta: { route: '/chat' } });
   */
  send(socket: net.Socket | net.Server, options: SendOptions = {}): Promise<SendResult> {
    try {
      return this.#send(socket, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #send(socket: net.Socket | net.Server, options: SendOptions): Promise<SendResult> {
    if (this.#closed) throw new SocketHandoffError('ERR_CHANNEL_CLOSED', `send(): this sender is closed (${this.#closed.message})`);
    const isSocket = socket instanceof net.Socket;
    if (!isSocket && !(socket instanceof net.Server)) {
      throw invalidArgType('socket', 'a net.Socket or a net.Server', socket);
    }
    const opts = checkOptionsObject(options) as SendOptions;
    const head = headBytes(opts.head);
    if (opts.keepOpen !== undefined && typeof opts.keepOpen !== 'boolean') throw invalidArgType('options.keepOpen', 'a boolean', opts.keepOpen);
    // Serialised here, before the socket is touched; the frame carries the value as it is now.
    const meta = opts.meta === undefined ? undefined : metaJson(opts.meta);
    const id = this.#nextId++;
    const { fields, descriptor, release, settle = NOTHING } = this.#transport.attach(socket, this.receiverPid, this.#socketForm);
    const buffered = isSocket ? takeReadableBuffer(socket) : EMPTY;
    // Gives the socket back as it was: its bytes in front, reading as before (paused stays paused).
    const restore = () => {
      if (buffered.length > 0 && isSocket && !socket.destroyed) socket.unshift(buffered);
      release();
      if (isSocket) resyncReading(socket);
      settle();
    };
    const allHead = buffered.length === 0 ? head : Buffer.concat([head, buffered]);
    // destroy(), not end(): shutdown would end the connection for the receiver too.
    const close = opts.keepOpen === true ? NOTHING : isSocket ? () => socket.destroy() : () => socket.close();
    const letGo = () => {
      settle();
      close();
    };
    if (debug.enabled) debug('sender %d: hand-off %d to pid %d (%d head bytes, %d of them buffered)', process.pid, id, this.receiverPid, allHead.length, buffered.length);
    return this.#dispatch(id, isSocket ? 'socket' : 'server', fields, descriptor, allHead, meta, isSocket ? socket.allowHalfOpen : undefined, restore, letGo);
  }

  /** A raw socket accepted by this package (HandoverServer's `sendTo`): nothing read, nothing to hold or give back. */
  #sendRaw(raw: bigint, allowHalfOpen: boolean, letGo: () => void): Promise<SendResult> {
    if (this.#closed) throw new SocketHandoffError('ERR_CHANNEL_CLOSED', `send(): this sender is closed (${this.#closed.message})`);
    const id = this.#nextId++;
    const { fields, descriptor, settle = NOTHING } = this.#transport.attachRaw(raw, this.receiverPid, this.#socketForm);
    const settleThen = (then: () => void) => () => {
      settle();
      then();
    };
    return this.#dispatch(id, 'socket', fields, descriptor, EMPTY, undefined, allowHalfOpen, settleThen(NOTHING), settleThen(letGo));
  }

  /** Writes the `socket` frame and waits for the answer; `restore` gives the socket back if the frame cannot go out. */
  #dispatch(
    id: number,
    kind: 'socket' | 'server',
    fields: Record<string, unknown>,
    descriptor: number | undefined,
    head: Buffer,
    meta: string | undefined,
    halfOpen: boolean | undefined,
    restore: () => void,
    letGo: () => void,
  ): Promise<SendResult> {
    const deadline = monotonicMicros() + this.#ackTimeout * 1000;
    const message = {
      type: 'socket',
      id,
      kind,
      ...fields,
      head: head.length ? head.toString('base64') : undefined,
      halfOpen,
      deadline: this.protocolVersion >= PROTOCOL_V2 ? deadline : undefined,
    };
    try {
      // `meta` joins as the JSON text send() made of it: one JSON.stringify of it per hand-off.
      const json = JSON.stringify(message);
      this.#connection.send(meta === undefined ? json : `${json.slice(0, -1)},"meta":${meta}}`, descriptor);
    } catch (err) {
      restore();
      throw err;
    }
    if (this.#ackReadDelay > 0) this.#connection.link.deferReads?.(this.#ackReadDelay);
    return new Promise<SendResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, restore, letGo, deadline });
      if (this.#timer === undefined) this.#armTimer();
    });
  }

  /** Closes the channel. Sends still waiting are rejected with ERR_CHANNEL_CLOSED and their sockets given back. */
  close(): Promise<void> {
    this.#shutDown(new SocketHandoffError('ERR_CHANNEL_CLOSED', 'the sender was closed'));
    return new Promise((resolve) => {
      if (this.#connection.link.closed) resolve();
      else this.#connection.link.once('close', () => resolve());
    });
  }

  #onMessage(raw: Record<string, unknown>): void {
    let msg;
    try {
      msg = checkReceiverReply(raw, this.protocolVersion);
    } catch (err) {
      this.#shutDown(err as SocketHandoffError);
      return;
    }
    if (msg.type === 'error') {
      this.#shutDown(new SocketHandoffError(peerCode(msg.code), `the receiver (pid ${this.receiverPid}) closed the channel: ${msg.message}`));
      return;
    }
    if (msg.type === 'held') {
      // Version 2: the receiver's ack may have come after our deadline, so it waits for our word.
      // If we gave this hand-off up, our abort is already on its way; otherwise the send succeeded.
      if (!this.#aborted.delete(msg.id)) this.#connection.send({ type: 'commit', id: msg.id });
      return;
    }
    if (msg.type !== 'ack' && msg.type !== 'nack') return;
    const pending = this.#pending.get(msg.id);
    if (!pending) {
      // The answer to a hand-off already aborted (timed out): the receiver drops it on our abort.
      // In version 2 an ack for it is followed by `held`, which settles it.
      if (msg.type === 'nack' || this.protocolVersion < PROTOCOL_V2) this.#aborted.delete(msg.id);
      return;
    }
    this.#pending.delete(msg.id);
    if (msg.type === 'nack') {
      if (debug.enabled) debug('sender %d: hand-off %d refused by pid %d: %s', process.pid, msg.id, this.receiverPid, msg.code);
      pending.restore();
      const err = new SocketHandoffError('ERR_HANDOFF_REFUSED', `the receiver (pid ${this.receiverPid}) refused the socket: ${msg.code}: ${msg.message}`);
      pending.reject(Object.assign(err, { reason: msg.code }));
      return;
    }
    // Version 1 commits before letting go: the receiver adopts the socket only when it reads this,
    // so a hand-off this side gave up on (abort, timeout, closed channel) is never used there.
    // Version 2 needs no commit: an ack that reached us before the deadline is final (docs/protocol.md).
    if (this.protocolVersion < PROTOCOL_V2 && !this.#connection.send({ type: 'commit', id: msg.id })) {
      pending.restore();
      pending.reject(new SocketHandoffError('ERR_RECEIVER_GONE', `the receiver (pid ${this.receiverPid}) went away before hand-off ${msg.id} was committed`));
      return;
    }
    if (debug.enabled) debug('sender %d: hand-off %d acknowledged by pid %d', process.pid, msg.id, this.receiverPid);
    pending.letGo();
    pending.resolve({ id: msg.id, receiverPid: this.receiverPid });
  }

  #armTimer(): void {
    const first = this.#pending.values().next();
    if (first.done) return;
    const waitMs = Math.max(0, Math.ceil((first.value.deadline - monotonicMicros()) / 1000));
    this.#timer = setTimeout(() => this.#onDeadline(), waitMs);
  }

  #disarmTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The earliest deadline passed. First read what the receiver has already written (an ack sent
   * before the deadline must count), then give up on every send whose deadline has passed.
   */
  #onDeadline(): void {
    this.#timer = undefined;
    // The clock first: an ack written after the read below was written after `now`, so the
    // receiver, which reads the clock after writing, sees its deadline passed and holds it.
    const now = monotonicMicros();
    this.#connection.link.readNow?.();
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) break;
      this.#pending.delete(id);
      this.#aborted.add(id);
      // The receiver may still acknowledge later; the abort makes it drop its copy instead.
      this.#connection.send({ type: 'abort', id });
      if (debug.enabled) debug('sender %d: hand-off %d to pid %d timed out; aborted', process.pid, id, this.receiverPid);
      pending.restore();
      pending.reject(new SocketHandoffError('ERR_HANDOFF_TIMEOUT', `the receiver (pid ${this.receiverPid}) did not answer hand-off ${id} within ${this.#ackTimeout} ms`));
    }
    if (!this.#closed && this.#timer === undefined) this.#armTimer();
  }

  #shutDown(reason: SocketHandoffError): void {
    if (!this.#closed && !this.#draining) {
      // Acks already written to us count, and none can be written after this (the peer's write
      // fails), so a socket given back below was never adopted there.
      this.#draining = true;
      this.#connection.link.drain?.();
      this.#draining = false;
    }
    const first = !this.#closed;
    if (first) {
      this.#closed = reason;
      debug('sender %d: channel to pid %d closed: %s', process.pid, this.receiverPid, reason.code);
      this.#connection.destroy();
    }
    this.#disarmTimer();
    this.#aborted.clear();
    for (const pending of this.#pending.values()) {
      pending.restore();
      pending.reject(reason);
    }
    this.#pending.clear();
    if (!first) return;
    // 'error' only for a listener: a receiver that goes away must not crash the sending process.
    if (reason.code !== 'ERR_CHANNEL_CLOSED' && this.listenerCount('error') > 0) this.emit('error', reason);
    this.emit('close', reason);
  }
}

/**
 * Connects to the receiver listening on channel `name`, and does the handshake (versions, pids,
 * secret). The sender then knows the receiver's pid, which the tokens are made for.
 * @throws (rejects) `ERR_CHANNEL_UNAVAILABLE` (no receiver), `ERR_CHANNEL_AUTH`, `ERR_UNSUPPORTED_VERSION`,
 *   `ERR_HANDSHAKE_TIMEOUT`, `ERR_FOREIGN_UID` (Linux: the receiver runs as another user),
 *   `ERR_UNSUPPORTED_PLATFORM`, the argument codes.
 * @example const sender = await openSender('my-app-workers');
 */
export async function openSender(name: string, options?: SenderOptions): Promise<SocketSender> {
  const channelName = checkName(name);
  const opts = checkOptionsObject(options);
  const secret = checkSecret(opts.secret);
  const connectTimeout = checkTimeout('connectTimeout', opts.connectTimeout, DEFAULTS.connectTimeout);
  const ackTimeout = checkTimeout('ackTimeout', opts.ackTimeout, DEFAULTS.ackTimeout);
  const ackReadDelay = checkDelay('ackReadDelay', opts.ackReadDelay, DEFAULTS.ackReadDelay);
  const maxFrameSize = checkMaxFrameSize(opts.maxFrameSize);
  const transport = channelTransport();
  const endpoint = transport.endpoint(channelName);

  const link = await transport.connect(endpoint, connectTimeout);
  const connection = new FrameConnection(link, maxFrameSize);
  try {
    const speaks = supportedVersions(transport.deliverOnReceipt);
    const { hello, version } = await handshake(connection, endpoint, secret, connectTimeout, speaks);
    debug('sender %d: connected to receiver pid %d on %s (protocol %d)', process.pid, hello.pid, endpoint, version);
    return SocketSender.create(connection, transport, hello, { ackTimeout, ackReadDelay }, version);
  } catch (err) {
    connection.destroy();
    throw err;
  }
}

function handshake(
  connection: FrameConnection,
  endpoint: string,
  secret: string | undefined,
  timeout: number,
  speaks: readonly number[],
): Promise<{ hello: ReceiverHello; version: number }> {
  return new Promise((resolve, reject) => {
    let hello: ReceiverHello | undefined;
    let version = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      connection.removeAllListeners('message');
      connection.removeAllListeners('protocolError');
      connection.removeListener('close', onClose);
      connection.removeListener('transportError', onTransportError);
      if (err) reject(err);
      else resolve({ hello: hello as ReceiverHello, version });
    };
    const timer = setTimeout(
      () => done(new SocketHandoffError('ERR_HANDSHAKE_TIMEOUT', `no handshake from a receiver on ${endpoint} within ${timeout} ms`)),
      timeout,
    );
    const onTransportError = (cause: Error) =>
      done(new SocketHandoffError('ERR_CHANNEL_UNAVAILABLE', `cannot reach a receiver on ${endpoint}: ${cause.message}`, { cause }));
    const onClose = () => done(new SocketHandoffError('ERR_CHANNEL_UNAVAILABLE', `the receiver on ${endpoint} closed the connection during the handshake`));
    connection.on('transportError', onTransportError);
    connection.on('close', onClose);
    connection.on('protocolError', (err: Error) => done(err));
    connection.on('message', (msg: Record<string, unknown>, descriptors: ReceivedDescriptor[] = []) => {
      for (const d of descriptors) d.close();
      try {
        if (hello === undefined) {
          hello = checkReceiverHello(msg, speaks);
          version = chooseVersion(hello.versions, speaks);
          if (hello.secret && secret === undefined) {
            throw new SocketHandoffError('ERR_CHANNEL_AUTH', `the receiver on ${endpoint} requires a secret; pass options.secret`);
          }
          connection.send({
            type: 'hello',
            role: 'sender',
            version,
            pid: process.pid,
            ...(hello.secret && secret !== undefined ? { proof: secretProof(secret, hello.nonce) } : {}),
          });
          return;
        }
        const reply = checkReceiverReply(msg);
        if (reply.type === 'ready') done();
        else if (reply.type === 'error') done(new SocketHandoffError(peerCode(reply.code), `the receiver on ${endpoint} refused this sender: ${reply.message}`));
        else throw new SocketHandoffError('ERR_UNEXPECTED_MESSAGE', `unexpected ${reply.type} during the handshake`);
      } catch (err) {
        done(err as Error);
      }
    });
  });
}
