/**
 * A connected Unix stream socket that this package reads and writes itself, with recvmsg/sendmsg,
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
  EINTR,
  F_DUPFD_CLOEXEC,
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSGHDR,
  SCM_RIGHTS,
  SHUT_RD,
  SHUT_WR,
  SOL_SOCKET,
  UV_READABLE,
  UV_WRITABLE,
} from './constants';
import { close, fcntl, recvmsg, sendmsg, shutdown } from './libc';
import { lastErrno, posixError } from './posix-error';
import { ReceivedDescriptor } from './received-descriptor';
import { PollWatcher } from './uv-poll';

/** Descriptors a single read makes room for; a sender that attaches more gets MSG_CTRUNC. */
const MAX_DESCRIPTORS_PER_READ = 8;
const CONTROL_SIZE = CMSG_HEADER_SIZE + 4 * MAX_DESCRIPTORS_PER_READ;
const DATA_SIZE = 64 * 1024;
/** One native block: msghdr, iovec, control buffer, data buffer. */
const IOVEC_AT = 64;
const CONTROL_AT = 128;
const DATA_AT = 256;
const BLOCK_SIZE = DATA_AT + DATA_SIZE;
/** Reads per readable event before yielding to the event loop. */
const READS_PER_EVENT = 16;

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
  /** What #setMessage copies in first: the msghdr pointing at the iovec, the iovec at the data. */
  readonly #template: Buffer;
  /** The control buffer's address, as the 8 bytes a msghdr holds. */
  readonly #controlPointer: Buffer;
  readonly #poll: PollWatcher;
  readonly #queue: Outgoing[] = [];
  #events = 0;
  /** Depth of #read calls in progress: writes made meanwhile wait for the end of the read burst. */
  #reading = 0;
  #ending = false;
  #shutDown = false;
  #destroyed = false;
  #closed = false;

  /** Takes ownership of `fd`, a connected AF_UNIX stream socket. */
  constructor(fd: number) {
    super();
    this.fd = fd;
    this.#memory = koffi.alloc('uint8_t', BLOCK_SIZE);
    this.#base = koffi.address(this.#memory);
    this.#view = Buffer.from(koffi.view(this.#memory, BLOCK_SIZE));
    // Built once, so each sendmsg/recvmsg writes two lengths instead of a msghdr of BigInts.
    this.#template = Buffer.alloc(IOVEC_AT + 16);
    this.#template.writeBigUInt64LE(this.#base + BigInt(IOVEC_AT), MSGHDR.iov);
    this.#template.writeBigUInt64LE(1n, MSGHDR.iovlen);
    this.#template.writeBigUInt64LE(this.#base + BigInt(DATA_AT), IOVEC_AT);
    this.#controlPointer = Buffer.alloc(8);
    this.#controlPointer.writeBigUInt64LE(this.#base + BigInt(CONTROL_AT));
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
    return !this.#destroyed && !this.#ending;
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
        this.destroy(posixError('sendmsg', errno));
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
    if (!this.#destroyed) this.#read();
  }

  /**
   * Stops the peer from writing any more (shutdown SHUT_RD: its next write fails with EPIPE), then
   * reads synchronously what it wrote before. After this, every byte the peer managed to write has
   * been seen here: a sender that closes uses it so that no ack is left unread (docs/protocol.md).
   */
  drain(): void {
    if (this.#destroyed) return;
    shutdown(this.fd, SHUT_RD);
    this.#read();
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
    const length = Math.min(entry.data.length - entry.sent, DATA_SIZE);
    entry.data.copy(this.#view, DATA_AT, entry.sent, entry.sent + length);
    this.#setMessage(length, entry.fd === undefined ? 0 : CMSG_HEADER_SIZE + 8);
    if (entry.fd !== undefined) {
      this.#view.writeUInt32LE(CMSG_HEADER_SIZE + 4, CONTROL_AT);
      this.#view.writeUInt32LE(0, CONTROL_AT + 4);
      this.#view.writeInt32LE(SOL_SOCKET, CONTROL_AT + 8);
      this.#view.writeInt32LE(SCM_RIGHTS, CONTROL_AT + 12);
      this.#view.writeInt32LE(entry.fd, CONTROL_AT + CMSG_HEADER_SIZE);
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

  #watch(events: number): void {
    if (events === this.#events || this.#destroyed) return;
    this.#events = events;
    this.#poll.watch(events);
  }

  #onPoll(status: number, events: number): void {
    if (this.#destroyed) return;
    if (status < 0) {
      // libuv reports POLLERR (e.g. the peer closed with our data unsent) as EBADF and stops
      // watching. Read what is left (EOF closes the link), then let a write name the real error.
      this.#read();
      if (!this.#destroyed && this.#queue.length > 0) this.#flush();
      if (!this.#destroyed) this.destroy(posixError('uv_poll', -status));
      return;
    }
    if (events & UV_WRITABLE) this.#flush();
    if (events & UV_READABLE && !this.#destroyed) this.#read();
  }

  #flush(): void {
    if (this.#reading > 0) return;
    while (this.#queue.length > 0 && !this.#destroyed) {
      const entry = this.#queue[0];
      const errno = this.#sendOne(entry);
      if (errno === EAGAIN) {
        this.#watch(UV_READABLE | UV_WRITABLE);
        return;
      }
      if (errno !== 0) {
        this.destroy(posixError('sendmsg', errno));
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
   * Reads up to READS_PER_EVENT messages. What 'data' listeners write meanwhile is held, then sent
   * in as few sendmsg calls as the descriptors attached allow; then 'readEnd'.
   */
  #read(): void {
    this.#reading++;
    try {
      this.#readBurst();
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

  #readBurst(): void {
    for (let i = 0; i < READS_PER_EVENT && !this.#destroyed; i++) {
      this.#setMessage(DATA_SIZE, CONTROL_SIZE);
      const received = Number(recvmsg(this.fd, this.#base, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
      if (received < 0) {
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return;
        this.destroy(posixError('recvmsg', errno));
        return;
      }
      const descriptors = this.#takeDescriptors();
      const flags = this.#view.readInt32LE(MSGHDR.flags);
      const truncated = (flags & MSG_CTRUNC) !== 0;
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
      if (received === 0) {
        for (const d of descriptors) d.close();
        this.destroy();
        return;
      }
      const chunk = Buffer.from(this.#view.subarray(DATA_AT, DATA_AT + received));
      // Truncated with room to spare: the kernel could not install them here (see the top).
      this.emit('data', chunk, descriptors, truncated);
    }
  }

  /** Points the msghdr at one iovec of `length` data bytes and `controlLength` control bytes. */
  #setMessage(length: number, controlLength: number): void {
    const v = this.#view;
    this.#template.copy(v, 0);
    if (controlLength > 0) {
      this.#controlPointer.copy(v, MSGHDR.control);
      v.writeUInt32LE(controlLength, MSGHDR.controllen);
    }
    v.writeUInt32LE(length, IOVEC_AT + 8);
  }

  /** The descriptors of every SCM_RIGHTS message in the control buffer just received. */
  #takeDescriptors(): ReceivedDescriptor[] {
    const v = this.#view;
    const controlLength = Number(v.readBigUInt64LE(MSGHDR.controllen));
    const out: ReceivedDescriptor[] = [];
    let at = 0;
    while (at + CMSG_HEADER_SIZE <= controlLength) {
      const length = Number(v.readBigUInt64LE(CONTROL_AT + at));
      if (length < CMSG_HEADER_SIZE || at + length > controlLength) break;
      if (v.readInt32LE(CONTROL_AT + at + 8) === SOL_SOCKET && v.readInt32LE(CONTROL_AT + at + 12) === SCM_RIGHTS) {
        for (let p = CMSG_HEADER_SIZE; p + 4 <= length; p += 4) out.push(new ReceivedDescriptor(v.readInt32LE(CONTROL_AT + at + p)));
      }
      at += (length + 7) & ~7;
    }
    return out;
  }
}
