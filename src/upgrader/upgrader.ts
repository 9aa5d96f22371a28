/**
 * Zero-downtime upgrades as a product: one process per generation of a service called `name`,
 * each taking its listeners from the previous one (or from systemd, or new), becoming ready, and
 * retiring the previous one, which drains and exits. The sequence is in docs/upgrades.md; the
 * control channel and its names in control.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { debug } from '../channel/debug';
import type { FrameConnection } from '../channel/frame-connection';
import { openReceiver } from '../channel/receiver';
import { openSender } from '../channel/sender';
import type { ChannelListener, ChannelPeer } from '../channel/transport';
import { invalidArgValue, peerCode, SocketHandoffError } from '../errors';
import { HandoverServer, type HandoverListenOptions } from '../handover-server';
import { controlNames, holdName, MessageQueue, reachName, type ControlNames } from './control';
import { holdListener, type HeldListener } from './held-listener';
import { checkKey, checkUpgradeOptions, checkUpgraderOptions, type UpgradeOptions, type UpgraderOptions } from './options';
import { preparePidFile } from './pid-file';
import { checkSystemdListener, notifySystemd, takeSystemdListeners } from './systemd';

/** How long to wait for the holder of the name to answer a connection, and for a hello. */
const CONNECT_TIMEOUT = 5000;
/** How long a successor waits for its predecessor's listeners, and for its 'retired'. */
const HANDOVER_TIMEOUT = 30000;
/** Taking the name back and forth between two processes: retries, 20 ms apart (about 5 s). */
const NAME_RETRY_MS = 20;
const NAME_ATTEMPTS = 250;

type State = 'waiting' | 'ready' | 'retired' | 'closed';

interface PendingUpgrade {
  child: ChildProcess;
  resolve: (pid: number) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  detach: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff;
const CONSTRUCT = Symbol('Upgrader');

/**
 * One generation of a service that upgrades itself without losing a connection.
 *
 * Events: `'retire'` (a successor serves now; this generation accepts no more), `'drained'` (its
 * last connection closed, or `drainTimeout` passed and the rest were destroyed), `'warning'`
 * (err: a coded problem that did not stop anything, e.g. `ERR_PREDECESSOR_GONE`; without a
 * listener it becomes a process warning).
 */
export class Upgrader extends EventEmitter {
  /** The service's name, as given to start(). */
  readonly name: string;
  readonly #names: ControlNames;
  readonly #drainTimeout: number;
  readonly #pidFile: string | undefined;
  #state: State = 'waiting';
  #inherited = false;
  /** Listeners from the predecessor, not asked for by listen() yet. */
  readonly #held = new Map<string, HeldListener>();
  #systemd = new Map<string, HeldListener>();
  #systemdExtra: HeldListener[] = [];
  readonly #servers = new Map<string, HandoverServer>();
  /** Inherited servers listened on before ready(): they accept once the predecessor stops. */
  #deferred: HandoverServer[] = [];
  readonly #connections = new Set<net.Socket>();
  /** Holds the name (`<name>.upgrader`) while this generation serves. */
  #control: ChannelListener | undefined;
  /** Holds the successor slot from start() until this generation holds the name. */
  #slot: ChannelListener | undefined;
  /** The control connection to the predecessor, until ready(). */
  #predecessor: MessageQueue | undefined;
  #successor: { conn: FrameConnection; pid: number } | undefined;
  #upgrade: PendingUpgrade | undefined;
  #readying: Promise<void> | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #draining = false;
  #drained = false;
  #started = false;

  /** @internal use Upgrader.start() */
  constructor(token: symbol, options: { name: string; drainTimeout: number; pidFile: string | undefined }, names: ControlNames) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('use Upgrader.start()');
    this.name = options.name;
    this.#drainTimeout = options.drainTimeout;
    this.#pidFile = options.pidFile;
    this.#names = names;
  }

  /**
   * Starts this generation of `name`. If a generation of `name` serves already, it receives copies
   * of all its listeners (it keeps accepting meanwhile); otherwise this is the first generation.
   * Listeners passed by systemd (LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES) are taken on Linux.
   * @throws (rejects) `ERR_UPGRADE_IN_PROGRESS` (another generation is starting or taking over),
   *   `ERR_NOT_READY` (the serving generation has not called ready() yet), `ERR_HANDSHAKE_TIMEOUT` (it did not answer), `ERR_FOREIGN_UID` (Linux:
   *   the name is held by another user), `ERR_NAME_UNAVAILABLE`, `ERR_SYSTEMD_FDS`, the channel's
   *   codes (`ERR_CHANNEL_FAILED`, `ERR_UNSUPPORTED_PLATFORM`…), and the argument codes.
   * @example const upgrader = await Upgrader.start({ name: 'shop', pidFile: '/run/shop.pid' });
   */
  static async start(options: UpgraderOptions): Promise<Upgrader> {
    const opts = checkUpgraderOptions(options);
    const names = controlNames(opts.name);
    // Windows: the holder learns a successor's pid from the newest pipe handle of its loop; open the
    // lazily created stdio pipes now so that none of them can be that newest handle later.
    if (process.platform === 'win32') void (process.stdout, process.stderr);
    const upgrader = new Upgrader(CONSTRUCT, opts, names);
    try {
      await upgrader.#begin();
    } catch (err) {
      await upgrader.#releaseAll();
      throw err;
    }
    setImmediate(() => (upgrader.#started = true));
    return upgrader;
  }

  /** True if this generation received listeners from a predecessor. */
  get inherited(): boolean {
    return this.#inherited;
  }

  /** 'waiting' (started, not ready), 'ready', 'retired' (a successor took over) or 'closed'. */
  get state(): State {
    return this.#state;
  }

  /** Connections accepted by this generation's servers and not closed yet. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * The listener for `key`: the predecessor's (accepting only from ready() on, until then the
   * predecessor accepts), else systemd's listener named `key` (Linux), else a new one made with
   * `HandoverServer.listen(options)`. `options` matter only for a new listener.
   * @throws `ERR_RETIRED`, `ERR_INVALID_ARG_VALUE` (a key listened on already), `ERR_SYSTEMD_FDS`,
   *   and HandoverServer.listen()'s codes (`WinsockError`/`PosixError` such as `EADDRINUSE`).
   * @example const server = upgrader.listen('web', { port: 8080, host: '0.0.0.0' });
   */
  listen(key: string, options: HandoverListenOptions = {}, connectionListener?: (socket: net.Socket) => void): HandoverServer {
    const name = checkKey(key);
    this.#checkNotRetired('listen()');
    if (this.#servers.has(name)) throw invalidArgValue('key', 'a key this generation has not listened on yet', name);
    let server: HandoverServer;
    const inherited = this.#held.get(name);
    const systemd = this.#systemd.get(name);
    if (inherited) {
      this.#held.delete(name);
      const defer = this.#predecessor !== undefined && !this.#predecessor.closed;
      server = inherited.adopt(defer);
      if (defer) this.#deferred.push(server);
      debug('upgrader %d: listen(%s): inherited%s', process.pid, name, defer ? ', accepting from ready()' : '');
    } else if (systemd) {
      this.#systemd.delete(name);
      checkSystemdListener(name, systemd);
      server = systemd.adopt(false);
      debug('upgrader %d: listen(%s): from systemd (fd %d)', process.pid, name, systemd.handle);
    } else {
      server = HandoverServer.listen(options);
      debug('upgrader %d: listen(%s): new listener', process.pid, name);
    }
    this.#track(name, server);
    if (connectionListener) server.on('connection', connectionListener);
    return server;
  }

  /**
   * Makes this generation the serving one: the predecessor (if any) stops accepting, closes its
   * copies of the listeners and retires; inherited keys not listened on are closed; the name is
   * taken over; the pid file is written (atomically); systemd is told `MAINPID=` and `READY=1`.
   * @throws (rejects) `ERR_RETIRED`, `ERR_PID_FILE` (nothing changed then), `ERR_NAME_UNAVAILABLE`.
   */
  ready(): Promise<void> {
    if (this.#state === 'retired' || this.#state === 'closed') return Promise.reject(this.#retiredError('ready()'));
    this.#readying ??= this.#becomeReady().catch((err) => {
      this.#readying = undefined;
      throw err;
    });
    return this.#readying;
  }

  /**
   * Starts the next generation (by default this Node with the same script and arguments), detached
   * from this process. Resolves with its pid once it is ready and this generation has retired.
   * If it exits or times out first (it is killed then), this generation keeps serving.
   * @throws (rejects) `ERR_NOT_READY`, `ERR_RETIRED`, `ERR_UPGRADE_IN_PROGRESS`, `ERR_UPGRADE_FAILED`,
   *   `ERR_UPGRADE_TIMEOUT`, and the argument codes.
   * @example process.on('SIGHUP', () => upgrader.upgrade().catch(report));
   */
  upgrade(options: UpgradeOptions = {}): Promise<number> {
    try {
      if (this.#state === 'retired' || this.#state === 'closed') throw this.#retiredError('upgrade()');
      if (this.#state !== 'ready') throw new SocketHandoffError('ERR_NOT_READY', `upgrade(): this generation of "${this.name}" has not called ready() yet`);
      if (this.#upgrade || this.#successor) {
        throw new SocketHandoffError('ERR_UPGRADE_IN_PROGRESS', `upgrade(): a successor of "${this.name}" is already taking over`);
      }
      return this.#startSuccessor(checkUpgradeOptions(options));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Gives the name up and closes this generation's listeners (connections are left alone). Use it
   * to stop a service for good; a pending upgrade() rejects with `ERR_RETIRED`.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const up = this.#upgrade;
    if (up) {
      this.#upgrade = undefined;
      up.detach();
      up.reject(this.#retiredError('upgrade()'));
    }
    clearTimeout(this.#drainTimer);
    await Promise.all([...this.#servers.values()].map(closeServer));
    await this.#releaseAll();
  }

  async #begin(): Promise<void> {
    const systemd = takeSystemdListeners();
    this.#systemd = systemd.byName;
    this.#systemdExtra = systemd.extra;
    this.#slot = await holdName(this.#names.slot, (conn) => conn.destroy());
    if (this.#slot === undefined) {
      throw new SocketHandoffError('ERR_UPGRADE_IN_PROGRESS', `another generation of "${this.name}" is starting or taking over right now`);
    }
    for (let attempt = 1; ; attempt++) {
      this.#control = await holdName(this.#names.control, (conn, peer) => this.#onSuccessor(conn, peer));
      if (this.#control) {
        debug('upgrader %d: "%s" has no serving generation; this is the first', process.pid, this.name);
        await this.#releaseSlot();
        return;
      }
      const conn = await reachName(this.#names.control, CONNECT_TIMEOUT);
      if (conn && (await this.#takeOver(new MessageQueue(conn)))) return;
      if (attempt >= NAME_ATTEMPTS) {
        throw new SocketHandoffError('ERR_NAME_UNAVAILABLE', `"${this.name}" is held, but its holder could not be reached in ${attempt} attempts`);
      }
      await sleep(NAME_RETRY_MS);
    }
  }

  /** Asks the holder of the name for its listeners. False: it went away before sending any (try again). */
  async #takeOver(queue: MessageQueue): Promise<boolean> {
    const received = new Map<string, HeldListener>();
    let arrived: (() => void) | undefined;
    const inbox = await openReceiver(
      this.#names.inbox(process.pid),
      (socket, info) => {
        const key = (info.meta as { upgraderKey?: unknown } | null)?.upgraderKey as string;
        if (!(socket instanceof HandoverServer) || received.has(key)) {
          if ('destroy' in socket) socket.destroy();
          else socket.close();
          return;
        }
        received.set(key, holdListener(socket)); // in this same step: never accepts here
        arrived?.();
      },
      { accept: (info) => typeof (info.meta as { upgraderKey?: unknown } | null)?.upgraderKey === 'string' },
    );
    inbox.on('error', (err: SocketHandoffError) => this.#warn(err));
    const giveBack = () => {
      for (const held of received.values()) held.close();
      received.clear();
    };
    try {
      queue.send({ type: 'hello', pid: process.pid });
      const reply = await queue.next(HANDOVER_TIMEOUT, `answer from the generation holding "${this.name}"`);
      if (reply === undefined) {
        if (received.size === 0) return false; // it went away (or retired) before sending anything
        const kept = [...received.keys()].join(', ');
        this.#keep(received);
        this.#warn(new SocketHandoffError('ERR_PREDECESSOR_GONE', `the predecessor of "${this.name}" went away in the middle of handing over; keeping the listener(s) received: ${kept}`));
        return true;
      }
      if (reply.type === 'error') {
        throw new SocketHandoffError(peerCode(String(reply.code)), `the generation holding "${this.name}" refused this one: ${String(reply.message)}`);
      }
      if (reply.type !== 'sent' || !Array.isArray(reply.keys)) throw new SocketHandoffError('ERR_UNEXPECTED_MESSAGE', `unexpected ${JSON.stringify(reply.type)} from the generation holding "${this.name}"`);
      // The commits come on the inbox connection, 'sent' on this one: wait until every key is here.
      const keys = reply.keys.filter((k): k is string => typeof k === 'string');
      const missing = () => keys.filter((k) => !received.has(k));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CONNECT_TIMEOUT);
        arrived = () => missing().length === 0 && (clearTimeout(timer), resolve());
        arrived();
      });
      if (missing().length > 0) this.#warn(new SocketHandoffError('ERR_HANDOFF_TIMEOUT', `listener(s) ${missing().join(', ')} of "${this.name}" did not arrive`));
      debug('upgrader %d: inherited %s from pid %d', process.pid, [...received.keys()].join(', ') || 'nothing', reply.pid);
      this.#keep(received);
      this.#predecessor = queue;
      queue.conn.once('close', () => this.#onPredecessorGone(queue));
      return true;
    } catch (err) {
      giveBack();
      throw err;
    } finally {
      arrived = undefined;
      if (this.#predecessor !== queue) queue.destroy();
      await inbox.close();
    }
  }

  #keep(received: Map<string, HeldListener>): void {
    for (const [key, held] of received) this.#held.set(key, held);
    this.#inherited = received.size > 0;
    received.clear();
  }

  /** The predecessor died before this generation was ready: nobody else accepts now, so accept at once. */
  #onPredecessorGone(queue: MessageQueue): void {
    if (this.#predecessor !== queue || this.#state !== 'waiting') return;
    this.#predecessor = undefined;
    for (const server of this.#deferred.splice(0)) server.startAccepting();
    this.#warn(new SocketHandoffError('ERR_PREDECESSOR_GONE', `the predecessor of "${this.name}" exited before this generation was ready; its listeners stay here`));
  }

  async #becomeReady(): Promise<void> {
    const pidFile = this.#pidFile === undefined ? undefined : preparePidFile(this.#pidFile);
    const predecessor = this.#predecessor;
    try {
      // Accept first, then let the predecessor stop: for a moment both accept, never neither.
      for (const server of this.#deferred.splice(0)) server.startAccepting();
      // From here on its going away is expected: it retires (and closes the connection) or it died.
      this.#predecessor = undefined;
      if (predecessor && !predecessor.closed) {
        predecessor.send({ type: 'ready' });
        const answer = await predecessor.next(HANDOVER_TIMEOUT, `'retired' from the predecessor of "${this.name}"`).catch((err: Error) => err);
        if (answer instanceof Error) this.#warn(answer as SocketHandoffError);
        debug('upgrader %d: predecessor %s', process.pid, answer === undefined ? 'went away' : answer instanceof Error ? 'did not answer' : 'retired');
      }
      this.#predecessor = undefined;
      predecessor?.destroy();
      for (const held of [...this.#held.values(), ...this.#systemd.values(), ...this.#systemdExtra]) held.close();
      this.#held.clear();
      this.#systemd.clear();
      this.#systemdExtra = [];
      for (let attempt = 1; this.#control === undefined; attempt++) {
        this.#control = await holdName(this.#names.control, (conn, peer) => this.#onSuccessor(conn, peer));
        if (this.#control) break;
        if (attempt >= NAME_ATTEMPTS) throw new SocketHandoffError('ERR_NAME_UNAVAILABLE', `could not take "${this.name}" over from its predecessor in ${attempt} attempts`);
        await sleep(NAME_RETRY_MS);
      }
    } catch (err) {
      pidFile?.discard();
      throw err;
    }
    if (this.#state === 'waiting') this.#state = 'ready';
    await this.#releaseSlot();
    try {
      pidFile?.commit();
    } catch (err) {
      this.#warn(err as SocketHandoffError);
    }
    try {
      notifySystemd(`MAINPID=${process.pid}\nREADY=1\n`);
    } catch (err) {
      this.#warn(err as SocketHandoffError);
    }
    debug('upgrader %d: "%s" ready', process.pid, this.name);
  }

  /** The holder's side of a successor's control connection. */
  #onSuccessor(conn: FrameConnection, peer: ChannelPeer): void {
    const refuse = (code: string, message: string) => {
      debug('upgrader %d: refusing a successor (pid %s): %s', process.pid, peer.pid ?? '?', code);
      conn.close({ type: 'error', code, message });
    };
    if (peer.remoteComputer !== undefined) return refuse('ERR_REMOTE_CLIENT', `only local processes may take "${this.name}" over`);
    const uid = process.getuid?.();
    if (peer.uid !== undefined && peer.uid !== uid) return refuse('ERR_FOREIGN_UID', `"${this.name}" runs as uid ${uid}; the successor runs as uid ${peer.uid}`);
    const queue = new MessageQueue(conn);
    void (async () => {
      const hello = await queue.next(CONNECT_TIMEOUT, 'hello').catch(() => undefined);
      if (hello === undefined || hello.type !== 'hello' || !isPid(hello.pid)) return conn.destroy();
      if (peer.pid !== undefined && peer.pid !== hello.pid) return refuse('ERR_PID_MISMATCH', `the successor says it is pid ${hello.pid}, the OS says ${peer.pid}`);
      if (this.#state === 'retired' || this.#state === 'closed') return refuse('ERR_RETIRED', `this generation of "${this.name}" (pid ${process.pid}) has retired`);
      if (this.#state !== 'ready') return refuse('ERR_NOT_READY', `the generation of "${this.name}" (pid ${process.pid}) has not called ready() yet`);
      if (this.#successor) return refuse('ERR_UPGRADE_IN_PROGRESS', `pid ${this.#successor.pid} is already taking "${this.name}" over`);
      const successor = { conn, pid: hello.pid };
      this.#successor = successor;
      conn.once('close', () => {
        if (this.#successor !== successor) return;
        this.#successor = undefined;
        debug('upgrader %d: successor %d went away before it was ready; serving on', process.pid, successor.pid);
      });
      let keys: string[];
      try {
        keys = await this.#sendListeners(this.#names.inbox(hello.pid));
      } catch (err) {
        if (this.#successor === successor) this.#successor = undefined;
        return refuse((err as SocketHandoffError).code ?? 'ERR_UPGRADE_FAILED', (err as Error).message);
      }
      if (!queue.send({ type: 'sent', pid: process.pid, keys })) return;
      debug('upgrader %d: sent %s to successor %d; waiting for its ready()', process.pid, keys.join(', ') || 'nothing', hello.pid);
      const ready = await queue.next(0, 'ready').catch(() => undefined);
      if (ready?.type !== 'ready' || this.#successor !== successor) return conn.destroy();
      await this.#retire(successor);
    })();
  }

  /** Copies of every listener, keepOpen: this generation goes on accepting until the successor is ready. */
  async #sendListeners(inbox: string): Promise<string[]> {
    const sender = await openSender(inbox, { connectTimeout: CONNECT_TIMEOUT });
    try {
      const keys: string[] = [];
      for (const [key, server] of this.#servers) {
        if (!server.listening) continue;
        await sender.send(server, { keepOpen: true, meta: { upgraderKey: key } });
        keys.push(key);
      }
      return keys;
    } finally {
      await sender.close();
    }
  }

  async #retire(successor: { conn: FrameConnection; pid: number }): Promise<void> {
    this.#state = 'retired';
    const up = this.#upgrade;
    this.#upgrade = undefined;
    up?.detach();
    const control = this.#control;
    this.#control = undefined;
    // Not awaited yet: on Windows a pipe server's close waits for its connections, this one included.
    const nameReleased = control?.close();
    // Nothing of this process is pending in the kernel once these have closed: the successor has it all.
    await Promise.all([...this.#servers.values()].map(closeServer));
    successor.conn.send({ type: 'retired' });
    successor.conn.close();
    await nameReleased;
    this.#successor = undefined;
    debug('upgrader %d: retired in favour of pid %d; %d connection(s) to drain', process.pid, successor.pid, this.#connections.size);
    if (up) {
      if (up.child.pid === successor.pid) up.resolve(successor.pid);
      else up.reject(new SocketHandoffError('ERR_UPGRADE_FAILED', `another generation (pid ${successor.pid}) took "${this.name}" over first`));
    }
    this.emit('retire');
    this.#draining = true; // from here on, not before: 'drained' always follows 'retire'
    if (this.#connections.size === 0) process.nextTick(() => this.#finishDrain());
    else this.#drainTimer = setTimeout(() => this.#finishDrain(), this.#drainTimeout);
  }

  #track(key: string, server: HandoverServer): void {
    this.#servers.set(key, server);
    server.on('connection', (socket: net.Socket) => {
      this.#connections.add(socket);
      socket.once('close', () => {
        this.#connections.delete(socket);
        if (this.#draining && this.#connections.size === 0) this.#finishDrain();
      });
    });
  }

  #finishDrain(): void {
    if (this.#drained) return;
    this.#drained = true;
    clearTimeout(this.#drainTimer);
    if (this.#connections.size > 0) debug('upgrader %d: drain timeout; destroying %d connection(s)', process.pid, this.#connections.size);
    for (const socket of this.#connections) socket.destroy();
    this.#connections.clear();
    this.emit('drained');
  }

  #startSuccessor(opts: ReturnType<typeof checkUpgradeOptions>): Promise<number> {
    return new Promise((resolve, reject) => {
      // detached: on Windows a child that is not detached is put in a job object that kills it with its parent.
      const child = spawn(opts.command, opts.args, { detached: true, stdio: 'inherit', env: opts.env, windowsHide: true });
      const fail = (err: SocketHandoffError) => {
        if (this.#upgrade !== pending) return;
        this.#upgrade = undefined;
        pending.detach();
        // It is no successor any more, even if its control connection has not closed yet. That
        // connection is left to close with the process: closing it from here would tell a live
        // successor that its predecessor died, and it would start accepting just before its end.
        if (this.#successor?.pid === child.pid) this.#successor = undefined;
        debug('upgrader %d: upgrade failed: %s', process.pid, err.message);
        reject(err);
      };
      const onError = (cause: Error) => fail(new SocketHandoffError('ERR_UPGRADE_FAILED', `could not start ${opts.command}: ${cause.message}`, { cause }));
      const onExit = (code: number | null, signal: string | null) =>
        fail(new SocketHandoffError('ERR_UPGRADE_FAILED', `the new generation (pid ${child.pid}) exited before it was ready (${signal ? `signal ${signal}` : `code ${code}`}); this one serves on`));
      const timer = setTimeout(() => {
        child.kill('SIGKILL'); // first: it must not live on to see anything of this process
        fail(new SocketHandoffError('ERR_UPGRADE_TIMEOUT', `the new generation (pid ${child.pid}) was not ready within ${opts.timeout} ms; it was killed and this one serves on`));
      }, opts.timeout);
      const pending: PendingUpgrade = {
        child,
        resolve,
        reject,
        timer,
        detach: () => {
          clearTimeout(timer);
          child.removeListener('error', onError);
          child.removeListener('exit', onExit);
        },
      };
      child.on('error', onError);
      child.on('exit', onExit);
      child.unref();
      this.#upgrade = pending;
      debug('upgrader %d: started the next generation, pid %d', process.pid, child.pid);
    });
  }

  #checkNotRetired(what: string): void {
    if (this.#state === 'retired' || this.#state === 'closed') throw this.#retiredError(what);
  }

  #retiredError(what: string): SocketHandoffError {
    return new SocketHandoffError('ERR_RETIRED', `${what}: this generation of "${this.name}" is ${this.#state === 'closed' ? 'closed' : 'retired'}`);
  }

  #warn(err: SocketHandoffError): void {
    debug('upgrader %d: warning %s: %s', process.pid, err.code, err.message);
    // During start() nobody can listen yet: such warnings come on the next turn of the event loop,
    // after the code that awaited start() has added its listener.
    if (!this.#started) {
      setImmediate(() => this.#warn(err));
      return;
    }
    if (this.listenerCount('warning') > 0) this.emit('warning', err);
    else process.emitWarning(err.message, { code: err.code });
  }

  async #releaseSlot(): Promise<void> {
    const slot = this.#slot;
    this.#slot = undefined;
    await slot?.close();
  }

  /** Everything but the servers: held listeners (inherited or systemd's), the control connections, the name and the slot. */
  async #releaseAll(): Promise<void> {
    for (const held of [...this.#held.values(), ...this.#systemd.values(), ...this.#systemdExtra]) held.close();
    this.#held.clear();
    this.#systemd.clear();
    this.#systemdExtra = [];
    this.#predecessor?.destroy();
    this.#predecessor = undefined;
    this.#successor?.conn.destroy();
    this.#successor = undefined;
    const control = this.#control;
    this.#control = undefined;
    await control?.close();
    await this.#releaseSlot();
  }
}

/** Closes a server's listening socket; its connections stay open (the drain is the Upgrader's). */
function closeServer(server: HandoverServer): Promise<void> {
  return server.closeListening();
}
