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
import { debug } from './debug';
import { FrameConnection } from './frame-connection';
import { checkReceiverHello, checkReceiverReply, PROTOCOL_VERSION, secretProof, type ReceiverHello } from './messages';
import { checkMaxFrameSize, checkName, checkOptionsObject, checkSecret, checkTimeout } from './options';
import { channelTransport, type HandoffTransport } from './transport';

/** Options of openSender(). */
export interface SenderOptions {
  /** Shared secret the receiver asks for, if it has one. */
  secret?: string;
  /** How long to wait for the channel and its handshake (ms). Default 5000. */
  connectTimeout?: number;
  /** How long each send() waits for the receiver's answer (ms). Default 10000. */
  ackTimeout?: number;
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

const DEFAULTS = { connectTimeout: 5000, ackTimeout: 10000 };

interface Pending {
  resolve: (result: SendResult) => void;
  reject: (err: Error) => void;
  restore: () => void;
  target: net.Socket | net.Server;
  keepOpen: boolean;
  timer: NodeJS.Timeout;
}

function headBytes(head: unknown): Buffer {
  if (head === undefined) return Buffer.alloc(0);
  if (typeof head === 'string') return Buffer.from(head, 'utf8');
  if (head instanceof Uint8Array) return Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  throw invalidArgType('options.head', 'a Buffer, a Uint8Array or a string', head);
}

/** A connection to one receiver. Many send() calls may be in flight at once. */
export class SocketSender extends EventEmitter {
  /** The receiver's pid, learnt in the handshake. */
  readonly receiverPid: number;
  readonly #connection: FrameConnection;
  readonly #transport: HandoffTransport;
  readonly #ackTimeout: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: SocketHandoffError | undefined;

  /** @internal use openSender() */
  static create(connection: FrameConnection, transport: HandoffTransport, hello: ReceiverHello, ackTimeout: number): SocketSender {
    return new SocketSender(connection, transport, hello, ackTimeout);
  }

  private constructor(connection: FrameConnection, transport: HandoffTransport, hello: ReceiverHello, ackTimeout: number) {
    super();
    this.receiverPid = hello.pid;
    this.#connection = connection;
    this.#transport = transport;
    this.#ackTimeout = ackTimeout;
    connection.on('message', (msg: Record<string, unknown>) => this.#onMessage(msg));
    connection.on('protocolError', (err: SocketHandoffError) => this.#shutDown(err));
    connection.on('close', () =>
      this.#shutDown(new SocketHandoffError('ERR_RECEIVER_GONE', `the receiver (pid ${this.receiverPid}) closed the channel`)),
    );
  }

  /** Number of sends waiting for the receiver's answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Hands `socket` (a connected net.Socket or a listening net.Server) to the receiver.
   * Resolves once the receiver adopted it; this process's copy is then closed unless `keepOpen`.
   * On failure the socket stays open and usable here, with its buffered bytes put back.
   * @throws (rejects) `ERR_CHANNEL_CLOSED`, `ERR_HANDOFF_REFUSED`, `ERR_HANDOFF_TIMEOUT`, `ERR_RECEIVER_GONE`,
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
    if (!(socket instanceof net.Socket) && !(socket instanceof net.Server)) {
      throw invalidArgType('socket', 'a net.Socket or a net.Server', socket);
    }
    const opts = checkOptionsObject(options) as SendOptions;
    const head = headBytes(opts.head);
    if (opts.keepOpen !== undefined && typeof opts.keepOpen !== 'boolean') throw invalidArgType('options.keepOpen', 'a boolean', opts.keepOpen);
    let meta: unknown;
    try {
      meta = opts.meta === undefined ? undefined : JSON.parse(JSON.stringify(opts.meta));
    } catch {
      throw invalidArgValue('options.meta', 'a JSON-serialisable value', opts.meta);
    }
    const id = this.#nextId++;
    const { fields, descriptor, release } = this.#transport.attach(socket, this.receiverPid);
    const buffered = socket instanceof net.Socket ? takeReadableBuffer(socket) : Buffer.alloc(0);
    // Gives the socket back as it was: its bytes in front, reading as before (paused stays paused).
    const restore = () => {
      if (buffered.length > 0 && socket instanceof net.Socket && !socket.destroyed) socket.unshift(buffered);
      release();
      if (socket instanceof net.Socket) resyncReading(socket);
    };
    const allHead = Buffer.concat([head, buffered]);
    const message = {
      type: 'socket',
      id,
      kind: socket instanceof net.Server ? 'server' : 'socket',
      ...fields,
      head: allHead.length ? allHead.toString('base64') : undefined,
      meta,
      halfOpen: socket instanceof net.Socket ? socket.allowHalfOpen : undefined,
    };
    try {
      this.#connection.send(message, descriptor);
    } catch (err) {
      restore();
      throw err;
    }
    debug('sender %d: hand-off %d to pid %d sent (%d head bytes, %d of them buffered)', process.pid, id, this.receiverPid, allHead.length, buffered.length);
    return new Promise<SendResult>((resolve, reject) => {
      const timer = setTimeout(() => this.#onTimeout(id), this.#ackTimeout);
      this.#pending.set(id, { resolve, reject, restore, target: socket, keepOpen: opts.keepOpen === true, timer });
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
      msg = checkReceiverReply(raw);
    } catch (err) {
      this.#shutDown(err as SocketHandoffError);
      return;
    }
    if (msg.type === 'error') {
      this.#shutDown(new SocketHandoffError(peerCode(msg.code), `the receiver (pid ${this.receiverPid}) closed the channel: ${msg.message}`));
      return;
    }
    if (msg.type !== 'ack' && msg.type !== 'nack') return;
    const pending = this.#pending.get(msg.id);
    if (!pending) return; // answer to a hand-off already aborted (timed out): the receiver drops it
    this.#pending.delete(msg.id);
    clearTimeout(pending.timer);
    if (msg.type === 'nack') {
      debug('sender %d: hand-off %d refused by pid %d: %s', process.pid, msg.id, this.receiverPid, msg.code);
      pending.restore();
      const err = new SocketHandoffError('ERR_HANDOFF_REFUSED', `the receiver (pid ${this.receiverPid}) refused the socket: ${msg.code}: ${msg.message}`);
      pending.reject(Object.assign(err, { reason: msg.code }));
      return;
    }
    // Commit before letting go: the receiver adopts the socket only when it reads this, so a
    // hand-off this side gave up on (abort, timeout, closed channel) is never used there.
    if (!this.#connection.send({ type: 'commit', id: msg.id })) {
      pending.restore();
      pending.reject(new SocketHandoffError('ERR_RECEIVER_GONE', `the receiver (pid ${this.receiverPid}) went away before hand-off ${msg.id} was committed`));
      return;
    }
    debug('sender %d: hand-off %d acknowledged by pid %d and committed', process.pid, msg.id, this.receiverPid);
    if (!pending.keepOpen) {
      // destroy(), not end(): shutdown would end the connection for the receiver too.
      if (pending.target instanceof net.Socket) pending.target.destroy();
      else pending.target.close();
    }
    pending.resolve({ id: msg.id, receiverPid: this.receiverPid });
  }

  #onTimeout(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    // The receiver may still acknowledge later; the abort makes it drop its copy instead.
    this.#connection.send({ type: 'abort', id });
    debug('sender %d: hand-off %d to pid %d timed out; aborted', process.pid, id, this.receiverPid);
    pending.restore();
    pending.reject(new SocketHandoffError('ERR_HANDOFF_TIMEOUT', `the receiver (pid ${this.receiverPid}) did not answer hand-off ${id} within ${this.#ackTimeout} ms`));
  }

  #shutDown(reason: SocketHandoffError): void {
    const first = !this.#closed;
    if (first) {
      this.#closed = reason;
      debug('sender %d: channel to pid %d closed: %s', process.pid, this.receiverPid, reason.code);
      this.#connection.destroy();
    }
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
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
  const maxFrameSize = checkMaxFrameSize(opts.maxFrameSize);
  const transport = channelTransport();
  const endpoint = transport.endpoint(channelName);

  const link = await transport.connect(endpoint, connectTimeout);
  const connection = new FrameConnection(link, maxFrameSize);
  try {
    const hello = await handshake(connection, endpoint, secret, connectTimeout);
    debug('sender %d: connected to receiver pid %d on %s', process.pid, hello.pid, endpoint);
    return SocketSender.create(connection, transport, hello, ackTimeout);
  } catch (err) {
    connection.destroy();
    throw err;
  }
}

function handshake(connection: FrameConnection, endpoint: string, secret: string | undefined, timeout: number): Promise<ReceiverHello> {
  return new Promise((resolve, reject) => {
    let hello: ReceiverHello | undefined;
    const done = (err?: Error) => {
      clearTimeout(timer);
      connection.removeAllListeners('message');
      connection.removeAllListeners('protocolError');
      connection.removeListener('close', onClose);
      connection.removeListener('transportError', onTransportError);
      if (err) reject(err);
      else resolve(hello as ReceiverHello);
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
    connection.on('message', (msg: Record<string, unknown>) => {
      try {
        if (hello === undefined) {
          hello = checkReceiverHello(msg);
          if (hello.secret && secret === undefined) {
            throw new SocketHandoffError('ERR_CHANNEL_AUTH', `the receiver on ${endpoint} requires a secret; pass options.secret`);
          }
          connection.send({
            type: 'hello',
            role: 'sender',
            version: PROTOCOL_VERSION,
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
