/**
 * A connected Unix stream socket that this package reads and writes itself, with recvmmsg/sendmsg,
 * so that descriptors (SCM_RIGHTS) travel with the bytes and are never dropped by a plain read().
 * It behaves enough like a net.Socket for the channel: 'data' (chunk, descriptors), 'error',
 * 'close'; write(); end(); destroy(). libuv's poll watcher says when to read or write.
 *
 * Ownership: writeWithDescriptor() sends a copy of the descriptor, which the link closes once the
 * kernel has it (or when the link is destroyed). A descriptor received belongs to whoever the
 * 'data' listener gives it to.
 *
 * A truncated control message (MSG_CTRUNC) means one of two things. With every slot of the read
 * filled, the peer attached more descriptors than one message may carry: that is the peer's
 * fault, reported as 'error' ERR_DESCRIPTORS_TRUNCATED. With slots left over, the kernel could not
 * install a descriptor in this process (its descriptor limit, EMFILE/ENFILE): that is this
 * process's shortage, and the bytes are delivered as usual with `descriptorsLost` set.
 */
import koffi from 'koffi';
import { EventEmitter } from 'node:events';
import { SocketHandoffError } from '../errors';
import {
  CMSG_HEADER_SIZE,
  EAGAIN,
  ECONNRESET,
  EINTR,
  F_DUPFD_CLOEXEC,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MMSGHDR,
  MSGHDR,
  IOVEC_SIZE,
  SCM_RIGHTS,
  SHUT_RD,
  SHUT_WR,
  SOL_SOCKET,
  UV_READABLE,
  UV_WRITABLE,
} from './constants';
import { close, fcntl, recvmmsg, sendmsg, shutdown } from './libc';
import { lastErrno, posixError } from './posix-error';
import { ReceivedDescriptor } from './received-descriptor';
import { PollWatcher } from './uv-poll';

/** Descriptors a single message read makes room for; a sender that attaches more gets MSG_CTRUNC. */
const MAX_DESCRIPTORS_PER_READ = 8;
const CONTROL_SIZE = CMSG_HEADER_SIZE + 4 * MAX_DESCRIPTORS_PER_READ;
/**
 * One recvmmsg reads up to this many messages (a message ends where the kernel ends a read of a
 * stream: at the end of what is queued, or just after bytes that carry descriptors). A readable
 * event makes at most CALLS_PER_EVENT such calls before yielding to the event loop.
 */
const MESSAGES_PER_CALL = 8;
const CALLS_PER_EVENT = 2;
/** Data room of message 0, which is also where every sendmsg is built; the others have less. */
const FIRST_DATA_SIZE = 64 * 1024;
const OTHER_DATA_SIZE = 8 * 1024;
/** One native block: the mmsghdr array, their iovecs, their control buffers, then their data. */
const IOVECS_AT = MESSAGES_PER_CALL * MMSGHDR.size;
const CONTROLS_AT = IOVECS_AT + MESSAGES_PER_CALL * IOVEC_SIZE;
const DATA_AT = CONTROLS_AT + MESSAGES_PER_CALL * CONTROL_SIZE;
const BLOCK_SIZE = DATA_AT + FIRST_DATA_SIZE + (MESSAGES_PER_CALL - 1) * OTHER_DATA_SIZE;

const controlAt = (i: number) => CONTROLS_AT + i * CONTROL_SIZE;
const dataAt = (i: number) => (i === 0 ? DATA_AT : DATA_AT + FIRST_DATA_SIZE + (i - 1) * OTHER_DATA_SIZE);

/** What one message of a recvmmsg brought: its bytes (a copy), descriptors, and MSG_CTRUNC. */
interface Incoming {
  chunk: Buffer;
  descriptors: ReceivedDescriptor[];
  truncated: boolean;
}

interface Outgoing {
  data: Buffer;
  sent: number;
  /** Our own copy of a descriptor still to attach to the first byte. */
  fd: number | undefined;
}

export class UnixLink extends EventEmitter {
  readonly fd: number;
  readonly #memory: unknown;
  readonly #view: Buffer;
  readonly #base: bigint;
  /**
   * Copied over the block's headers before each recvmmsg: every mmsghdr pointing at its iovec and
   * control buffer, every iovec at its data, with their full lengths.
   */
  readonly #readTemplate: Buffer;
  /** Copied over message 0's msghdr before each sendmsg: one iovec, no control buffer. */
  readonly #sendTemplate: Buffer;
  /** The control buffer's address, as the 8 bytes a msghdr holds. */
  readonly #controlPointer: Buffer;
  readonly #poll: PollWatcher;
  readonly #queue: Outgoing[] = [];
  #events = 0;
  /** Depth of #read calls in progress: writes made meanwhile wait for the end of the read burst. */
  #reading = 0;
  /** Set while deferReads() keeps the watcher from waking up for bytes to read. */
  #deferred: NodeJS.Timeout | undefined;
  #ending = false;
  #shutDown = false;
  /** Set once a write failed: nothing more is written, and the link closes once it has read what is left. */
  #writeFailed = false;
  /** ECONNRESET that a read reported before the bytes still queued (see #readBurst); the link closes with it at their end. */
  #resetError: Error | undefined;
  #destroyed = false;
  #closed = false;

  /** Takes ownership of `fd`, a connected AF_UNIX stream socket. */
  constructor(fd: number) {
    super();
    this.fd = fd;
    this.#memory = koffi.alloc('uint8_t', BLOCK_SIZE);
    this.#base = koffi.address(this.#memory);
    this.#view = Buffer.from(koffi.view(this.#memory, BLOCK_SIZE));
    // Built once, so that a call copies a template and writes a length or two, never BigInts.
    this.#readTemplate = Buffer.alloc(DATA_AT);
    for (let i = 0; i < MESSAGES_PER_CALL; i++) {
      const header = i * MMSGHDR.size + MMSGHDR.hdr;
      const iovec = IOVECS_AT + i * IOVEC_SIZE;
      this.#readTemplate.writeBigUInt64LE(this.#base + BigInt(iovec), header + MSGHDR.iov);
      this.#readTemplate.writeBigUInt64LE(1n, header + MSGHDR.iovlen);
      this.#readTemplate.writeBigUInt64LE(this.#base + BigInt(controlAt(i)), header + MSGHDR.control);
      this.#readTemplate.writeBigUInt64LE(BigInt(CONTROL_SIZE), header + MSGHDR.controllen);
      this.#readTemplate.writeBigUInt64LE(this.#base + BigInt(dataAt(i)), iovec);
      this.#readTemplate.writeBigUInt64LE(BigInt(i === 0 ? FIRST_DATA_SIZE : OTHER_DATA_SIZE), iovec + 8);
    }
    // The iovecs stay as the read template left them; a send only shortens iovec 0.
    this.#readTemplate.copy(this.#view, 0);
    this.#sendTemplate = Buffer.from(this.#readTemplate.subarray(0, MSGHDR.size)).fill(0, MSGHDR.control, MSGHDR.controllen + 8);
    this.#controlPointer = Buffer.alloc(8);
    this.#controlPointer.writeBigUInt64LE(this.#base + BigInt(controlAt(0)));
    try {
      this.#poll = new PollWatcher(fd, (status, events) => this.#onPoll(status, events));
      this.#watch(UV_READABLE);
    } catch (err) {
      koffi.free(this.#memory);
      close(fd);
      throw err;
    }
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get writable(): boolean {
    return !this.#destroyed && !this.#ending && !this.#writeFailed;
  }

  /** True once 'close' was emitted. */
  get closed(): boolean {
    return this.#closed;
  }

  write(data: Buffer): boolean {
    return this.#enqueue(data, undefined);
  }

  /** Bytes written but not yet taken by the kernel (0: everything written so far is in the peer's queue). */
  get writableLength(): number {
    let n = 0;
    for (const entry of this.#queue) n += entry.data.length - entry.sent;
    return n;
  }

  /**
   * Writes `data` with `fd` attached to its first byte. When nothing is queued, it goes out now and
   * the kernel takes its own reference during the call. Otherwise a copy is queued, which the
   * link closes once the kernel has it; either way the caller may close `fd` as soon as this returns.
   * @throws PosixError if a copy is needed and cannot be made (e.g. EMFILE, EBADF)
   */
  writeWithDescriptor(data: Buffer, fd: number): boolean {
    if (!this.writable) return false;
    if (this.#queue.length === 0) {
      const entry: Outgoing = { data, sent: 0, fd };
      const errno = this.#sendOne(entry);
      if (errno === 0) {
        // The descriptor went with the first byte; anything left is plain bytes.
        if (entry.sent < data.length) this.#queue.push({ data, sent: entry.sent, fd: undefined });
        this.#flush();
        return !this.#destroyed;
      }
      if (errno !== EAGAIN) {
        this.#failWrite(errno);
        return false;
      }
    }
    const copy = fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
    if (copy < 0) throw posixError('fcntl', lastErrno(), 'F_DUPFD_CLOEXEC');
    return this.#enqueue(data, copy);
  }

  /**
   * Reads now whatever the peer has already written, without waiting for the poll watcher:
   * 'data' is emitted synchronously for it. Used where a decision must see every byte already
   * sent (a sender at its deadline, docs/protocol.md).
   */
  readNow(): void {
    if (!this.#destroyed) this.#read(true);
  }

  /**
   * Stops the peer from writing any more (shutdown SHUT_RD: its next write fails with EPIPE), then
   * reads synchronously what it wrote before. After this, every byte the peer managed to write has
   * been seen here: a sender that closes uses it so that no ack is left unread (docs/protocol.md).
   */
  drain(): void {
    if (this.#destroyed) return;
    shutdown(this.fd, SHUT_RD);
    this.#read(true);
  }

  /**
   * Stops waking up for what the peer writes during the next `ms` milliseconds; then reads all of
   * it in one burst and watches again. A sender uses it so that the receiver's answers do not wake
   * it while the receiver is still at work on the same CPUs, and so that one wake-up reads many.
   * A deferral already running is not extended. readNow() and drain() still read at once.
   */
  deferReads(ms: number): void {
    if (this.#deferred !== undefined || this.#destroyed) return;
    this.#deferred = setTimeout(() => {
      this.#deferred = undefined;
      if (this.#destroyed) return;
      this.#watch(this.#events | UV_READABLE);
      this.#read();
    }, ms);
    this.#watch(this.#events);
  }

  /**
   * Says that this link emits 'readEnd' after every burst of reads, once the writes made during it
   * (by 'data' listeners: acks, commits) have gone out together, in one sendmsg where they can.
   */
  get endsReadBursts(): true {
    return true;
  }

  /** One sendmsg of `entry`'s unsent bytes (its descriptor attached, if any). 0, or the errno (EINTR retried). */
  #sendOne(entry: Outgoing): number {
    const length = Math.min(entry.data.length - entry.sent, FIRST_DATA_SIZE);
    const v = this.#view;
    entry.data.copy(v, dataAt(0), entry.sent, entry.sent + length);
    this.#sendTemplate.copy(v, 0);
    v.writeUInt32LE(length, IOVECS_AT + 8);
    if (entry.fd !== undefined) {
      const control = controlAt(0);
      this.#controlPointer.copy(v, MSGHDR.control);
      v.writeUInt32LE(CMSG_HEADER_SIZE + 8, MSGHDR.controllen);
      v.writeUInt32LE(CMSG_HEADER_SIZE + 4, control);
      v.writeUInt32LE(0, control + 4);
      v.writeInt32LE(SOL_SOCKET, control + 8);
      v.writeInt32LE(SCM_RIGHTS, control + 12);
      v.writeInt32LE(entry.fd, control + CMSG_HEADER_SIZE);
    }
    for (;;) {
      const sent = Number(sendmsg(this.fd, this.#base, MSG_NOSIGNAL | MSG_DONTWAIT));
      if (sent >= 0) {
        entry.sent += sent;
        return 0;
      }
      const errno = lastErrno();
      if (errno !== EINTR) return errno;
    }
  }

  /** Writes `data` (if any), then shuts the sending side once everything is out. */
  end(): this;
  end(data: Buffer): this;
  end(data?: Buffer): this {
    if (data && data.length) this.#enqueue(data, undefined);
    this.#ending = true;
    this.#flush();
    return this;
  }

  destroy(err?: Error): this {
    if (this.#destroyed) return this;
    this.#destroyed = true;
    clearTimeout(this.#deferred);
    this.#poll.close();
    close(this.fd);
    for (const entry of this.#queue.splice(0)) if (entry.fd !== undefined) close(entry.fd);
    koffi.free(this.#memory);
    process.nextTick(() => {
      if (err) this.emit('error', err);
      this.#closed = true;
      this.emit('close');
    });
    return this;
  }

  #enqueue(data: Buffer, fd: number | undefined): boolean {
    if (!this.writable) {
      if (fd !== undefined) close(fd);
      return false;
    }
    this.#queue.push({ data, sent: 0, fd });
    this.#flush();
    return !this.#destroyed;
  }

  /** Watches for `events`, less UV_READABLE while reads are deferred (0 stops the watcher). */
  #watch(events: number): void {
    if (this.#deferred !== undefined) events &= ~UV_READABLE;
    if (events === this.#events || this.#destroyed) return;
    this.#events = events;
    this.#poll.watch(events);
  }

  #onPoll(status: number, events: number): void {
    if (this.#destroyed) return;
    if (status < 0) {
      // libuv reports POLLERR (e.g. the peer closed with our data unsent) as EBADF and stops
      // watching. Read what is left (EOF closes the link), then let a write name the real error.
      this.#read(true);
      if (!this.#destroyed && this.#queue.length > 0) this.#flush();
      if (!this.#destroyed) this.destroy(posixError('uv_poll', -status));
      return;
    }
    if (events & UV_WRITABLE) this.#flush();
    if (events & UV_READABLE && !this.#destroyed) this.#read();
  }

  /**
   * A write failed (EPIPE, ECONNRESET: the peer closed or shut its reading side). Whatever the peer
   * wrote before is still queued here and may decide something (acks: a receiver that adopted a
   * socket, then died), so it is all read, synchronously, before the link closes with the error.
   */
  #failWrite(errno: number): void {
    this.#writeFailed = true;
    this.#read(true);
    this.destroy(posixError('sendmsg', errno));
  }

  #flush(): void {
    if (this.#reading > 0 || this.#writeFailed) return;
    while (this.#queue.length > 0 && !this.#destroyed) {
      const entry = this.#queue[0];
      const errno = this.#sendOne(entry);
      if (errno === EAGAIN) {
        this.#watch(UV_READABLE | UV_WRITABLE);
        return;
      }
      if (errno !== 0) {
        this.#failWrite(errno);
        return;
      }
      if (entry.fd !== undefined) {
        // The kernel holds its own reference now; ours can go.
        close(entry.fd);
        entry.fd = undefined;
      }
      if (entry.sent === entry.data.length) this.#queue.shift();
    }
    if (this.#destroyed) return;
    this.#watch(UV_READABLE);
    if (this.#ending && !this.#shutDown && this.#queue.length === 0) {
      this.#shutDown = true;
      shutdown(this.fd, SHUT_WR);
    }
  }

  /**
   * Reads up to CALLS_PER_EVENT x MESSAGES_PER_CALL messages, or with `all` everything already
   * queued (until the read would block, or the end of the stream). What 'data' listeners write
   * meanwhile is held, then sent in as few sendmsg calls as the descriptors attached allow; then
   * 'readEnd'.
   */
  #read(all = false): void {
    this.#reading++;
    try {
      this.#readBurst(all ? Infinity : CALLS_PER_EVENT);
    } finally {
      this.#reading--;
    }
    if (this.#reading > 0) return;
    if (!this.#destroyed) {
      this.#coalesce();
      this.#flush();
    }
    this.emit('readEnd');
  }

  /** Joins queued runs of plain bytes (no descriptor attached) into one entry each. */
  #coalesce(): void {
    const queue = this.#queue;
    if (queue.length < 2) return;
    const joined: Outgoing[] = [];
    let run: Buffer[] = [];
    const endRun = () => {
      if (run.length > 0) joined.push({ data: run.length === 1 ? run[0] : Buffer.concat(run), sent: 0, fd: undefined });
      run = [];
    };
    for (const entry of queue) {
      if (entry.fd === undefined) {
        run.push(entry.sent === 0 ? entry.data : entry.data.subarray(entry.sent));
      } else {
        endRun();
        joined.push(entry);
      }
    }
    endRun();
    queue.splice(0, queue.length, ...joined);
  }

  #readBurst(calls: number): void {
    for (let call = 0; call < calls && !this.#destroyed; call++) {
      this.#readTemplate.copy(this.#view, 0);
      const count = recvmmsg(this.fd, this.#base, MESSAGES_PER_CALL, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, null);
      if (count < 0) {
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return;
        // recvmmsg() reports an error pending on the socket before it reads anything, and clears
        // it. A peer that closed with bytes of ours unread leaves ECONNRESET pending, but what it
        // wrote before is still queued here (a receiver's acks): read on, to the end of the stream.
        if (errno === ECONNRESET && this.#resetError === undefined) {
          this.#resetError = posixError('recvmmsg', errno);
          continue;
        }
        this.destroy(posixError('recvmmsg', errno));
        return;
      }
      // Everything is taken out of the block before any listener runs: one may read again
      // (readNow, drain), which reuses the block.
      const batch: Incoming[] = [];
      for (let i = 0; i < count; i++) batch.push(this.#takeMessage(i));
      for (const message of batch) this.#deliver(message);
      // Fewer than asked for: the next read would have blocked.
      if (count < MESSAGES_PER_CALL) return;
    }
  }

  /** Copies out message `i` of the last recvmmsg: its bytes, its descriptors, and MSG_CTRUNC. */
  #takeMessage(i: number): Incoming {
    const v = this.#view;
    const header = i * MMSGHDR.size + MMSGHDR.hdr;
    // size_t lengths the kernel wrote, far below 2^32: their low halves (little-endian).
    const descriptors = this.#takeDescriptors(controlAt(i), v.readUInt32LE(header + MSGHDR.controllen));
    const truncated = (v.readInt32LE(header + MSGHDR.flags) & MSG_CTRUNC) !== 0;
    const length = v.readUInt32LE(i * MMSGHDR.size + MMSGHDR.len);
    return { chunk: Buffer.from(v.subarray(dataAt(i), dataAt(i) + length)), descriptors, truncated };
  }

  /** Emits one message read as 'data'; an empty one is the end of the stream. */
  #deliver({ chunk, descriptors, truncated }: Incoming): void {
    if (this.#destroyed) {
      for (const d of descriptors) d.close();
      return;
    }
    if (truncated && descriptors.length >= MAX_DESCRIPTORS_PER_READ) {
      for (const d of descriptors) d.close();
      const err = new SocketHandoffError(
        'ERR_DESCRIPTORS_TRUNCATED',
        `the peer attached more descriptors than one message carries (at most ${MAX_DESCRIPTORS_PER_READ}); they were closed`,
      );
      // The owner answers the peer (an error frame) and closes; without one, close now.
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.destroy(err);
      return;
    }
    if (chunk.length === 0) {
      for (const d of descriptors) d.close();
      this.destroy(this.#resetError);
      return;
    }
    // Truncated with room to spare: the kernel could not install them here (see the top).
    this.emit('data', chunk, descriptors, truncated);
  }

  /** The descriptors of every SCM_RIGHTS message in the control buffer at `control`, `controlLength` bytes of it filled. */
  #takeDescriptors(control: number, controlLength: number): ReceivedDescriptor[] {
    const v = this.#view;
    const out: ReceivedDescriptor[] = [];
    let at = 0;
    while (at + CMSG_HEADER_SIZE <= controlLength) {
      const length = v.readUInt32LE(control + at);
      if (length < CMSG_HEADER_SIZE || at + length > controlLength) break;
      if (v.readInt32LE(control + at + 8) === SOL_SOCKET && v.readInt32LE(control + at + 12) === SCM_RIGHTS) {
        for (let p = CMSG_HEADER_SIZE; p + 4 <= length; p += 4) out.push(new ReceivedDescriptor(v.readInt32LE(control + at + p)));
      }
      at += (length + 7) & ~7;
    }
    return out;
  }
}
