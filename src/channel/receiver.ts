/**
 * The receiving side of the hand-off channel: listens on the channel, does the handshake with
 * each sender, adopts each socket it is sent, acknowledges it, then gives it to `onSocket`.
 * A sender that breaks the protocol gets an `error` message and is disconnected; the receiver
 * keeps serving the others and reports it as 'clientError'. It never throws into nowhere.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { invalidArgType, RESOURCE_SHORTAGE_CODES, SocketHandoffError } from '../errors';
import { HandoverServer } from '../handover-server';
import type { SocketHandle } from '../socket-handle';
import { debug } from './debug';
import type { FrameError } from './frame-codec';
import { FrameConnection, type FrameFacts } from './frame-connection';
import { monotonicMicros } from './clock';
import { checkSenderHello, checkSenderMessage, PROTOCOL_V2, proofMatches, supportedVersions, type SocketMessage } from './messages';
import { checkMaxFrameSize, checkName, checkOptionsObject, checkSecret, checkTimeout } from './options';
import { channelTransport, type ChannelListener, type ChannelPeer, type HandoffTransport, type ReceivedDescriptor } from './transport';

/** Options of openReceiver(). */
export interface ReceiverOptions {
  /** Accept only senders that know this secret. */
  secret?: string;
  /** How long a new sender has to finish the handshake (ms). Default 5000. */
  handshakeTimeout?: number;
  /** Largest frame accepted (bytes). Default 1 MiB. */
  maxFrameSize?: number;
  /**
   * Called before a socket is imported; return false to decline it (e.g. at capacity). The sender's
   * send() then rejects with ERR_HANDOFF_REFUSED (reason ERR_HANDOFF_DECLINED) and keeps the socket.
   */
  accept?: (info: SocketInfo) => boolean;
}

/** What onSocket learns about a socket besides the socket itself. */
export interface SocketInfo {
  /** 'socket' for a connection (a net.Socket), 'server' for a listening socket (a HandoverServer). */
  kind: 'socket' | 'server';
  /** The JSON value the sender attached (`send(socket, { meta })`). */
  meta: unknown;
  /** The sender's pid. */
  pid: number;
  /** The hand-off's id on its sender's connection. */
  id: number;
}

/**
 * Gets each socket handed over: a connection as a net.Socket, a listening socket as a HandoverServer
 * (`info.kind` says which; `socket instanceof HandoverServer` narrows the type).
 */
export type OnSocket = (socket: net.Socket | HandoverServer, info: SocketInfo) => void;

const DEFAULTS = { handshakeTimeout: 5000 };

/** A listening receiver. close() stops it. Events: 'clientError' (err, pid?), 'error' (err). */
export class SocketReceiver extends EventEmitter {
  /** Where it listens (`\\.\pipe\<name>` on Windows, a socket path on Linux). */
  readonly endpoint: string;
  #listener: ChannelListener | undefined;
  readonly #connections = new Set<FrameConnection>();

  private constructor(endpoint: string) {
    super();
    this.endpoint = endpoint;
  }

  /** @internal use openReceiver() */
  static create(endpoint: string): SocketReceiver {
    return new SocketReceiver(endpoint);
  }

  /** @internal starts listening through `transport`; each sender is handed to `serve`. */
  async listen(transport: HandoffTransport, maxFrameSize: number, serve: (conn: FrameConnection, peer: ChannelPeer) => void): Promise<void> {
    this.#listener = await transport.listen(
      this.endpoint,
      (link, peer) => {
        const conn = new FrameConnection(link, maxFrameSize);
        this.#connections.add(conn);
        conn.on('close', () => this.#connections.delete(conn));
        serve(conn, peer);
      },
      // After a successful listen, errors here are rare (e.g. accept failures); surface them.
      (err) => this.reportError(new SocketHandoffError('ERR_CHANNEL_FAILED', `receiver on ${this.endpoint}: ${err.message}`, { cause: err })),
    );
  }

  /** Senders connected right now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stops listening and disconnects every sender. Sockets already adopted are not touched. */
  close(): Promise<void> {
    for (const conn of this.#connections) conn.destroy();
    const listener = this.#listener;
    this.#listener = undefined;
    return listener ? listener.close() : Promise.resolve();
  }

  /** @internal 'error' for a listener; without one, a process warning instead of a crash. */
  reportError(err: SocketHandoffError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { code: err.code });
  }

  /** @internal reports a refused or misbehaving sender without throwing. */
  reportClientError(err: SocketHandoffError, pid?: number): void {
    this.emit('clientError', err, pid);
  }
}

/**
 * Listens on channel `name` for senders. Each socket sent is adopted (a net.Socket that yields
 * the sender's `head` bytes first, or a listening net.Server) and given to `onSocket`.
 * @throws (rejects) `ERR_CHANNEL_IN_USE` if another receiver listens on `name`, `ERR_UNSUPPORTED_PLATFORM`, argument codes.
 * @example await openReceiver('my-app-workers', (socket, { meta }) => serve(socket, meta));
 */
export async function openReceiver(name: string, onSocket: OnSocket, options?: ReceiverOptions): Promise<SocketReceiver> {
  const channelName = checkName(name);
  if (typeof onSocket !== 'function') throw invalidArgType('onSocket', 'a function', onSocket);
  const opts = checkOptionsObject(options);
  const secret = checkSecret(opts.secret);
  const handshakeTimeout = checkTimeout('handshakeTimeout', opts.handshakeTimeout, DEFAULTS.handshakeTimeout);
  const maxFrameSize = checkMaxFrameSize(opts.maxFrameSize);
  if (opts.accept !== undefined && typeof opts.accept !== 'function') throw invalidArgType('options.accept', 'a function', opts.accept);
  const acceptFilter = opts.accept as ReceiverOptions['accept'];
  const transport = channelTransport();
  const endpoint = transport.endpoint(channelName);
  const receiver = SocketReceiver.create(endpoint);
  const ctx: ServeContext = { transport, onSocket, secret, handshakeTimeout, acceptFilter };
  await receiver.listen(transport, maxFrameSize, (conn, peer) => serveSender(conn, receiver, peer, ctx));
  debug('receiver %d: listening on %s', process.pid, endpoint);
  return receiver;
}

interface ServeContext {
  transport: HandoffTransport;
  onSocket: OnSocket;
  secret: string | undefined;
  handshakeTimeout: number;
  acceptFilter: ReceiverOptions['accept'];
}

function serveSender(conn: FrameConnection, receiver: SocketReceiver, peer: ChannelPeer, ctx: ServeContext): void {
  const nonce = randomBytes(16).toString('base64');
  const offered = supportedVersions(ctx.transport.deliverOnReceipt);
  let senderPid: number | undefined;
  let version = 0;
  const held = new Map<number, Held>();
  // Version 2: acknowledged in the frames being read, decided once their acks are out (batchEnd).
  const undecided = new Map<number, Undecided>();
  let refused = false;
  const refuse = (err: SocketHandoffError) => {
    refused = true;
    debug('receiver %d: refusing sender %s: %s %s', process.pid, senderPid ?? '(before hello)', err.code, err.message);
    clearTimeout(timer);
    conn.close({ type: 'error', code: err.code, message: err.message });
    receiver.reportClientError(err, senderPid ?? peer.pid);
  };
  const timer = setTimeout(
    () => refuse(new SocketHandoffError('ERR_HANDSHAKE_TIMEOUT', `the sender did not finish the handshake within ${ctx.handshakeTimeout} ms`)),
    ctx.handshakeTimeout,
  );
  timer.unref();
  conn.on('close', () => {
    clearTimeout(timer);
    // Without a commit the sender still has these sockets (or it died, and with it the hand-off).
    for (const entry of held.values()) release(entry, 'the sender closed the channel before committing');
    held.clear();
    for (const { entry } of undecided.values()) release(entry, 'the channel closed before the ack was out');
    undecided.clear();
  });
  conn.on('batchEnd', () => {
    if (undecided.size > 0) decide(undecided, held, conn, receiver, ctx);
  });
  if (peer.remoteComputer !== undefined) {
    refuse(new SocketHandoffError('ERR_REMOTE_CLIENT', `only local senders may connect; this one is on ${peer.remoteComputer}`));
    return;
  }
  const uid = process.geteuid?.();
  if (peer.uid !== undefined && peer.uid !== uid) {
    refuse(new SocketHandoffError('ERR_FOREIGN_UID', `only senders running as uid ${uid} may connect; this one (pid ${peer.pid}) runs as uid ${peer.uid}`));
    return;
  }
  conn.on('protocolError', (err: FrameError) => refuse(err));
  conn.on('message', (msg: Record<string, unknown>, descriptors: ReceivedDescriptor[], facts: FrameFacts) => {
    try {
      // After an `error` nothing else counts, not even frames that came in the same read.
      if (refused) return;
      if (senderPid === undefined) {
        const hello = checkSenderHello(msg, offered);
        if (peer.pid !== undefined && hello.pid !== peer.pid) {
          // The pid is what tokens would be made for; a sender that lies about it is refused.
          throw new SocketHandoffError('ERR_PID_MISMATCH', `the sender says it is pid ${hello.pid}, the OS says ${peer.pid}`);
        }
        if (ctx.secret !== undefined && !proofMatches(ctx.secret, nonce, hello.proof)) {
          throw new SocketHandoffError('ERR_CHANNEL_AUTH', 'the sender does not know the secret');
        }
        senderPid = hello.pid;
        version = hello.version;
        clearTimeout(timer);
        debug('receiver %d: sender pid %d connected (protocol %d)', process.pid, senderPid, hello.version);
        conn.send({ type: 'ready' });
        return;
      }
      const message = checkSenderMessage(msg, version);
      if (message.type === 'socket') {
        hold(message, descriptors, facts, senderPid, version, conn, receiver, ctx, held, undecided);
        return;
      }
      // An abort read with the frame it cancels (the sender's deadline passed before our ack went
      // out): the socket is still the sender's. A commit is only an answer to `held`, which was
      // not sent for it.
      const pending = undecided.get(message.id);
      if (pending !== undefined) {
        if (message.type === 'abort') {
          undecided.delete(message.id);
          release(pending.entry, 'aborted by the sender');
        }
        return;
      }
      const entry = held.get(message.id);
      if (entry === undefined) return; // already released: nothing of ours is left
      held.delete(message.id);
      if (message.type === 'commit') deliver(entry, receiver, ctx);
      else release(entry, 'aborted by the sender');
    } catch (err) {
      refuse(err as SocketHandoffError);
    } finally {
      // Whatever was not taken (a refused or declined hand-off) is closed, never leaked.
      for (const descriptor of descriptors) descriptor.close();
    }
  });
  conn.send({ type: 'hello', role: 'receiver', versions: offered, pid: process.pid, nonce, secret: ctx.secret !== undefined });
}

/** A socket imported and acknowledged, waiting for the sender's commit (or abort). */
interface Held {
  handle: SocketHandle;
  head: Buffer | undefined;
  halfOpen: boolean;
  info: SocketInfo;
}

/** Version 2: acknowledged while its frame's batch is read; adopted or held once the acks are out. */
interface Undecided {
  entry: Held;
  deadline: number;
}


/**
 * Imports the socket and acknowledges it. Version 1: it is adopted and given to onSocket only on
 * commit. Version 2: it is adopted at once if the ack reached the kernel before the frame's
 * deadline; otherwise the receiver says `held` and waits for commit or abort as in version 1.
 */
function hold(
  msg: SocketMessage,
  descriptors: ReceivedDescriptor[],
  facts: FrameFacts,
  senderPid: number,
  version: number,
  conn: FrameConnection,
  receiver: SocketReceiver,
  ctx: ServeContext,
  held: Map<number, Held>,
  undecided: Map<number, Undecided>,
): void {
  const nack = (err: SocketHandoffError) => {
    debug('receiver %d: hand-off %d from pid %d refused: %s %s', process.pid, msg.id, senderPid, err.code, err.message);
    conn.send({ type: 'nack', id: msg.id, code: err.code, message: err.message });
  };
  if (held.has(msg.id) || undecided.has(msg.id)) {
    nack(new SocketHandoffError('ERR_MALFORMED_FRAME', `hand-off id ${msg.id} is already in use on this connection`));
    return;
  }
  const info: SocketInfo = { kind: msg.kind, meta: msg.meta, pid: senderPid, id: msg.id };
  if (ctx.acceptFilter) {
    let accepted: boolean;
    try {
      accepted = ctx.acceptFilter(info) !== false;
    } catch (err) {
      accepted = false;
      receiver.reportError(new SocketHandoffError('ERR_ONSOCKET_THREW', `options.accept threw: ${(err as Error).message}`, { cause: err }));
    }
    if (!accepted) {
      nack(new SocketHandoffError('ERR_HANDOFF_DECLINED', 'the receiver declined this socket'));
      return;
    }
  }
  // Version 2: the sender has already given this one up (and served it, or sent it elsewhere).
  if (version >= PROTOCOL_V2 && monotonicMicros() >= (msg.deadline as number)) {
    nack(new SocketHandoffError('ERR_HANDOFF_LATE', `hand-off ${msg.id} arrived after its deadline; the sender has taken it back`));
    return;
  }
  // This process is out of descriptors or handles: refuse this one hand-off, keep the channel.
  // The sender gives the socket back; once descriptors are free, hand-offs succeed again.
  if (facts.descriptorsLost) {
    nack(new SocketHandoffError('ERR_RECEIVER_BUSY', 'the receiver could not take the descriptor in (MSG_CTRUNC: it is at its descriptor limit)'));
    return;
  }
  let handle: SocketHandle;
  try {
    handle = ctx.transport.detach(msg, descriptors);
  } catch (err) {
    const code = (err as SocketHandoffError).code;
    if (RESOURCE_SHORTAGE_CODES.has(code)) {
      nack(new SocketHandoffError('ERR_RECEIVER_BUSY', `the receiver is out of resources: ${(err as Error).message}`, { cause: err }));
    } else {
      nack(err as SocketHandoffError);
    }
    return;
  }
  if (!handle.isStream) {
    handle.close();
    nack(new SocketHandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', `the channel carries TCP sockets; this one has type ${handle.type}`));
    return;
  }
  const head = msg.head ? Buffer.from(msg.head, 'base64') : undefined;
  const entry: Held = { handle, head, halfOpen: msg.halfOpen === true, info };
  if (!conn.send({ type: 'ack', id: msg.id })) {
    release(entry, 'the channel closed before the ack');
    return;
  }
  if (version >= PROTOCOL_V2) {
    // Decided at the end of the batch of frames read with this one, after their acks went out
    // together: see decide().
    undecided.set(msg.id, { entry, deadline: msg.deadline as number });
    return;
  }
  held.set(msg.id, entry);
  if (debug.enabled) debug('receiver %d: hand-off %d from pid %d imported and acknowledged; waiting for commit', process.pid, msg.id, senderPid);
}

/**
 * Version 2, once the acks of a batch of frames have been written: the clock is read after the
 * write. An ack in the kernel before the deadline is one the sender reads before it gives up (it
 * drains the channel at its deadline), so both ends agree: adopt now. Otherwise say `held` and wait
 * for commit or abort.
 */
function decide(undecided: Map<number, Undecided>, held: Map<number, Held>, conn: FrameConnection, receiver: SocketReceiver, ctx: ServeContext): void {
  const written = !conn.link.destroyed && conn.link.writableLength === 0;
  const now = monotonicMicros();
  const batch = [...undecided.values()];
  undecided.clear();
  for (const { entry, deadline } of batch) {
    if (written && now < deadline) {
      deliver(entry, receiver, ctx);
    } else if (!conn.open) {
      release(entry, 'the channel closed before the ack was out');
    } else {
      held.set(entry.info.id, entry);
      conn.send({ type: 'held', id: entry.info.id });
      if (debug.enabled) debug('receiver %d: hand-off %d from pid %d acknowledged at its deadline; held until commit or abort', process.pid, entry.info.id, entry.info.pid);
    }
  }
}

/** The sender committed: adopt the socket (head first) and hand it to the application. */
function deliver(entry: Held, receiver: SocketReceiver, ctx: ServeContext): void {
  let socket: net.Socket | HandoverServer;
  try {
    // A listener arrives as a HandoverServer, so it can be handed on again without loss.
    socket = entry.handle.listening ? entry.handle.toHandoverServer() : entry.handle.toNetSocket({ allowHalfOpen: entry.halfOpen });
  } catch (err) {
    if (entry.handle.state === 'open') entry.handle.close();
    receiver.reportError(new SocketHandoffError('ERR_CHANNEL_FAILED', `could not adopt hand-off ${entry.info.id}: ${(err as Error).message}`, { cause: err }));
    return;
  }
  if (socket instanceof net.Socket && entry.head) socket.unshift(entry.head);
  if (debug.enabled) debug('receiver %d: hand-off %d from pid %d adopted', process.pid, entry.info.id, entry.info.pid);
  try {
    ctx.onSocket(socket, { ...entry.info, kind: socket instanceof HandoverServer ? 'server' : 'socket' });
  } catch (err) {
    receiver.reportError(new SocketHandoffError('ERR_ONSOCKET_THREW', `onSocket threw: ${(err as Error).message}`, { cause: err }));
  }
}

/** The sender kept the socket (abort, timeout, or it went away): close our copy, no shutdown. */
function release(entry: Held, why: string): void {
  debug('receiver %d: hand-off %d from pid %d released (%s)', process.pid, entry.info.id, entry.info.pid, why);
  if (entry.handle.state === 'open') entry.handle.close();
}
