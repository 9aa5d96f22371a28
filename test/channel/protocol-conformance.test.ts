/**
 * docs/protocol.md, rule by rule, as raw frames: one table of cases for the receiver and one for
 * the sender, run against the Node side and against the two peers that ship with the package
 * (peers/python, peers/php), each as its own process (test/peers/fixtures/driver.*). Every case
 * names the rule it checks; each implementation must give the same answer. Linux only (the
 * Windows form is the same conversation over a named pipe, tested in test/cross-process).
 * After each table the process under test holds exactly as many descriptors as before it.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ask,
  checkRuntimes,
  type Driver,
  fdOf,
  frame,
  IMPLS,
  type Impl,
  killDrivers,
  nextWith,
  rawFrame,
  rawReceiver,
  rawSender,
  readAll,
  startDriver,
  tcpPair,
} from '../support/channel-peers';
import { describeOnLinux } from '../support/platform';
import { sendWithDescriptors } from '../support/send-descriptors';
import { AF_INET } from '../../src/posix/constants';
import * as libc from '../../src/posix/libc';

/** socket(2)'s type for UDP on Linux. */
const SOCK_DGRAM = 2;

const F_GETFL = 3;
const O_NONBLOCK = 0o4000;

const WHY = 'the peers speak the Unix-socket form; the Windows form is tested in test/cross-process';

type FdKind = 'tcp' | 'file' | 'unix' | 'udp' | 'listener';
type Write = Buffer | { data: Buffer; fds: FdKind[] };
type Answer =
  | { ready: true }
  | { error: string }
  | { nack: string; id: number }
  | { ack: number }
  | { silent: true };

interface ReceiverCase {
  rule: string;
  /** Receiver options (a separate receiver process per distinct set). */
  options?: Record<string, unknown>;
  /** Skip the handshake: `send` starts right after the receiver's hello. */
  raw?: boolean;
  send: (pid: number, nonce: string) => Write[];
  answer: Answer;
  /** An answer that comes before `answer` (e.g. the nack of a frame that lost its descriptor). */
  first?: Answer;
  /** After an ack: commit (the test then checks the socket works, head first) or abort. */
  then?: 'commit' | 'abort';
  only?: Impl[];
}

const hello = (pid: number, extra: object = {}) => frame({ type: 'hello', role: 'sender', version: 1, pid, ...extra });
const sock = (id: unknown, extra: object = {}): Write => ({ data: frame({ type: 'socket', id, kind: 'socket', ...extra }), fds: ['tcp'] });
const withoutFd = (w: Write) => (Buffer.isBuffer(w) ? w : w.data);

/** docs/protocol.md: "Frames", "Conversation" 1-2, the handshake part of "Error codes on the wire". */
const HANDSHAKE: ReceiverCase[] = [
  { rule: 'frames: a length of 0 is an error ERR_MALFORMED_FRAME', raw: true, send: () => [Buffer.alloc(4)], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'frames: a length above 1 MiB is refused as soon as its 4 bytes arrive (ERR_FRAME_TOO_LARGE)', raw: true, send: () => [Buffer.from([0, 0x10, 0, 1])], answer: { error: 'ERR_FRAME_TOO_LARGE' } },
  { rule: 'frames: a body that is not UTF-8 is ERR_MALFORMED_FRAME', raw: true, send: () => [rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'frames: a JSON array body is ERR_MALFORMED_FRAME', raw: true, send: (pid) => [rawFrame(`[{"type":"hello","role":"sender","version":1,"pid":${pid}}]`)], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'frames: a JSON scalar body is ERR_MALFORMED_FRAME', raw: true, send: () => [rawFrame('"hello"')], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'frames: NaN is not JSON (ERR_MALFORMED_FRAME)', raw: true, send: () => [rawFrame('{"type":"hello","role":"sender","version":1,"pid":NaN}')], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'frames: a byte order mark before the body is skipped', raw: true, send: (pid) => [rawFrame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), withoutFd(hello(pid)).subarray(4)]))], answer: { ready: true } },
  { rule: 'frames: a frame may arrive one byte at a time', raw: true, send: (pid) => [...withoutFd(hello(pid))].map((b) => Buffer.from([b])), answer: { ready: true } },
  { rule: 'frames: unknown members are ignored', raw: true, send: (pid) => [hello(pid, { extra: { any: [1, 'thing'] }, capabilities: 7 })], answer: { ready: true } },
  { rule: 'frames: a member given twice counts with its last value', raw: true, send: (pid) => [rawFrame(`{"type":"hello","role":"receiver","role":"sender","version":1,"pid":${pid}}`)], answer: { ready: true } },
  { rule: 'order: a first frame other than the sender hello is ERR_MALFORMED_FRAME (socket)', raw: true, send: () => [withoutFd(sock(1))], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'order: a first frame other than the sender hello is ERR_MALFORMED_FRAME (unknown type)', raw: true, send: () => [frame({ type: 'ping' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: role must be "sender"', raw: true, send: (pid) => [frame({ type: 'hello', role: 'receiver', version: 1, pid })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: role is required', raw: true, send: (pid) => [frame({ type: 'hello', version: 1, pid })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: version must be a JSON number ("1" is not)', raw: true, send: (pid) => [frame({ type: 'hello', role: 'sender', version: '1', pid })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: a version not offered is ERR_UNSUPPORTED_VERSION', raw: true, send: (pid) => [frame({ type: 'hello', role: 'sender', version: 3, pid })], answer: { error: 'ERR_UNSUPPORTED_VERSION' } },
  { rule: 'hello: version 1.0 is version 1', raw: true, send: (pid) => [rawFrame(`{"type":"hello","role":"sender","version":1.0,"pid":${pid}}`)], answer: { ready: true } },
  { rule: 'hello: pid is required', raw: true, send: () => [frame({ type: 'hello', role: 'sender', version: 1 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: pid must be a positive integer (0)', raw: true, send: () => [frame({ type: 'hello', role: 'sender', version: 1, pid: 0 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: pid 1234.0 is 1234', raw: true, send: (pid) => [rawFrame(`{"type":"hello","role":"sender","version":1,"pid":${pid}.0}`)], answer: { ready: true } },
  { rule: 'hello: a pid that is not the process at the other end is ERR_PID_MISMATCH', raw: true, send: (pid) => [hello(pid + 1)], answer: { error: 'ERR_PID_MISMATCH' } },
  { rule: 'hello: proof, when present, must be a string', raw: true, send: (pid) => [hello(pid, { proof: 42 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'hello: a proof nobody asked for is ignored', raw: true, send: (pid) => [hello(pid, { proof: 'ab12' })], answer: { ready: true } },
  { rule: 'secret: a missing proof is ERR_CHANNEL_AUTH', options: { secret: 's3cret' }, raw: true, send: (pid) => [hello(pid)], answer: { error: 'ERR_CHANNEL_AUTH' } },
  { rule: 'secret: a wrong proof is ERR_CHANNEL_AUTH', options: { secret: 's3cret' }, raw: true, send: (pid, nonce) => [hello(pid, { proof: createHmac('sha256', 'other').update(nonce).digest('hex') })], answer: { error: 'ERR_CHANNEL_AUTH' } },
  { rule: 'secret: proof = hex HMAC-SHA256(secret, nonce) is admitted', options: { secret: 's3cret' }, raw: true, send: (pid, nonce) => [hello(pid, { proof: createHmac('sha256', 's3cret').update(nonce).digest('hex') })], answer: { ready: true } },
  { rule: 'secret: the proof is lowercase hex (uppercase is refused)', options: { secret: 's3cret' }, raw: true, send: (pid, nonce) => [hello(pid, { proof: createHmac('sha256', 's3cret').update(nonce).digest('hex').toUpperCase() })], answer: { error: 'ERR_CHANNEL_AUTH' } },
  { rule: 'handshake: no sender hello within handshakeTimeout is ERR_HANDSHAKE_TIMEOUT', options: { handshake_timeout: 0.3 }, raw: true, send: () => [], answer: { error: 'ERR_HANDSHAKE_TIMEOUT' } },
];

/** docs/protocol.md: "Conversation" 4-7, "The descriptor (Linux)", "Error codes on the wire". */
const HANDOFF: ReceiverCase[] = [
  { rule: 'socket: a TCP connection with one descriptor is acknowledged, and adopted on commit with head first', send: () => [sock(1, { head: Buffer.from('GET /x').toString('base64'), meta: { route: '/x', list: [1, null] } })], answer: { ack: 1 }, then: 'commit' },
  { rule: 'socket: id 1.0 is id 1 (the ack says 1)', send: () => [{ data: rawFrame('{"type":"socket","id":1.0,"kind":"socket"}'), fds: ['tcp'] }], answer: { ack: 1 }, then: 'abort' },
  { rule: 'socket: the largest id is 2^53-1', send: () => [sock(2 ** 53 - 1)], answer: { ack: 2 ** 53 - 1 }, then: 'abort' },
  { rule: 'socket: id 0 is ERR_MALFORMED_FRAME', send: () => [sock(0)], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: id "1" is ERR_MALFORMED_FRAME', send: () => [sock('1')], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: id 1.5 is ERR_MALFORMED_FRAME', send: () => [sock(1.5)], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: id 2^53 is ERR_MALFORMED_FRAME', send: () => [sock(2 ** 53)], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: kind is required', send: () => [{ data: frame({ type: 'socket', id: 1 }), fds: ['tcp'] }], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: kind other than "socket"/"server" is ERR_MALFORMED_FRAME', send: () => [sock(1, { kind: 'pipe' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: kind is not trusted: "server" on a connection is adopted as a connection', send: () => [sock(1, { kind: 'server' })], answer: { ack: 1 }, then: 'commit' },
  { rule: 'socket: head must be padded base64 (unpadded is ERR_MALFORMED_FRAME, not a nack)', send: () => [sock(1, { head: 'R0VUIC8' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: head in base64url is ERR_MALFORMED_FRAME', send: () => [sock(1, { head: 'R0VU-_8=' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: head with whitespace is ERR_MALFORMED_FRAME', send: () => [sock(1, { head: 'R0VU IC8=' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: head that is not a string is ERR_MALFORMED_FRAME', send: () => [sock(1, { head: 12 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: an empty head is no head', send: () => [sock(1, { head: '' })], answer: { ack: 1 }, then: 'commit' },
  { rule: 'socket: halfOpen must be a boolean', send: () => [sock(1, { halfOpen: 'yes' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: token, if present, must be a string', send: () => [sock(1, { token: 5 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: a string token is ignored on Linux', send: () => [sock(1, { token: 'ZgACAA==' })], answer: { ack: 1 }, then: 'abort' },
  { rule: 'socket: mapping (the Windows mapping form), if present, must be a string', send: () => [sock(1, { mapping: 5 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: mapping null is the wrong type (ERR_MALFORMED_FRAME)', send: () => [sock(1, { mapping: null })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'socket: a string mapping is ignored on Linux, with or without a token', send: () => [sock(1, { mapping: 'php_wsa_for_0', token: 'ZgACAA==' })], answer: { ack: 1 }, then: 'commit' },
  { rule: 'socket: meta null is passed as null', send: () => [sock(1, { meta: null })], answer: { ack: 1 }, then: 'commit' },
  { rule: 'descriptor: none is nack ERR_NO_DESCRIPTOR, and the connection goes on', send: () => [withoutFd(sock(1))], answer: { nack: 'ERR_NO_DESCRIPTOR', id: 1 } },
  { rule: 'descriptor: two is nack ERR_NO_DESCRIPTOR (both closed)', send: () => [{ data: withoutFd(sock(1)), fds: ['tcp', 'tcp'] }], answer: { nack: 'ERR_NO_DESCRIPTOR', id: 1 } },
  { rule: 'descriptor: a file is nack ERR_UNSUPPORTED_SOCKET_TYPE', send: () => [{ data: withoutFd(sock(1)), fds: ['file'] }], answer: { nack: 'ERR_UNSUPPORTED_SOCKET_TYPE', id: 1 } },
  { rule: 'descriptor: a Unix socket is nack ERR_UNSUPPORTED_SOCKET_TYPE', send: () => [{ data: withoutFd(sock(1)), fds: ['unix'] }], answer: { nack: 'ERR_UNSUPPORTED_SOCKET_TYPE', id: 1 } },
  { rule: 'descriptor: a UDP socket is nack ERR_UNSUPPORTED_SOCKET_TYPE', send: () => [{ data: withoutFd(sock(1)), fds: ['udp'] }], answer: { nack: 'ERR_UNSUPPORTED_SOCKET_TYPE', id: 1 } },
  { rule: 'descriptor: a listening TCP socket is acknowledged and adopted as a listener', send: () => [{ data: withoutFd(sock(1)), fds: ['listener'] }], answer: { ack: 1 }, then: 'commit' },
  { rule: 'descriptor: a receiver that takes connections only answers a listener with nack ERR_UNSUPPORTED_SOCKET_TYPE', options: { listeners: false }, only: ['python', 'php'], send: () => [{ data: withoutFd(sock(1)), fds: ['listener'] }], answer: { nack: 'ERR_UNSUPPORTED_SOCKET_TYPE', id: 1 } },
  { rule: 'descriptor: declined by the application is nack ERR_HANDOFF_DECLINED', options: { accept: 'decline' }, send: () => [sock(1)], answer: { nack: 'ERR_HANDOFF_DECLINED', id: 1 } },
  { rule: 'binding: whole earlier frames in the read of the socket frame claim nothing (commit + socket in one sendmsg)', send: () => [{ data: Buffer.concat([frame({ type: 'commit', id: 77 }), withoutFd(sock(1))]), fds: ['tcp'] }], answer: { ack: 1 }, then: 'abort' },
  { rule: 'binding: a descriptor with a frame that is not a socket frame is an error ERR_MALFORMED_FRAME once the next frame starts', send: () => [{ data: frame({ type: 'commit', id: 77 }), fds: ['file'] }, frame({ type: 'abort', id: 77 })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  {
    rule: 'binding: a descriptor in the middle of a frame is ERR_MALFORMED_FRAME',
    send: () => {
      const whole = withoutFd(sock(1));
      return [whole.subarray(0, 10), { data: whole.subarray(10), fds: ['tcp'] }, frame({ type: 'abort', id: 1 })];
    },
    first: { nack: 'ERR_NO_DESCRIPTOR', id: 1 },
    answer: { error: 'ERR_MALFORMED_FRAME' },
  },
  { rule: 'binding: more than 8 descriptors on one message is an error ERR_DESCRIPTORS_TRUNCATED', send: () => [{ data: withoutFd(sock(1)), fds: Array(12).fill('file') }], answer: { error: 'ERR_DESCRIPTORS_TRUNCATED' } },
  { rule: 'order: after the handshake an unknown type is ERR_UNEXPECTED_MESSAGE', send: () => [frame({ type: 'ping' })], answer: { error: 'ERR_UNEXPECTED_MESSAGE' } },
  { rule: 'order: after the handshake a second hello is ERR_UNEXPECTED_MESSAGE', send: (pid) => [hello(pid)], answer: { error: 'ERR_UNEXPECTED_MESSAGE' } },
  { rule: 'order: after the handshake a frame without type is ERR_UNEXPECTED_MESSAGE', send: () => [frame({ id: 1 })], answer: { error: 'ERR_UNEXPECTED_MESSAGE' } },
  { rule: 'order: a receiver-only type (ack) from a sender is ERR_UNEXPECTED_MESSAGE', send: () => [frame({ type: 'ack', id: 1 })], answer: { error: 'ERR_UNEXPECTED_MESSAGE' } },
  { rule: 'order: only the receiver writes error; one from a sender is ERR_UNEXPECTED_MESSAGE', send: () => [frame({ type: 'error', code: 'ERR_X', message: 'x' })], answer: { error: 'ERR_UNEXPECTED_MESSAGE' } },
  { rule: 'commit: id "1" is ERR_MALFORMED_FRAME', send: () => [frame({ type: 'commit', id: '1' })], answer: { error: 'ERR_MALFORMED_FRAME' } },
  { rule: 'commit: for an id not held it is ignored (no answer, the connection goes on)', send: () => [frame({ type: 'commit', id: 5 })], answer: { silent: true } },
  { rule: 'abort: for an id not held it is ignored', send: () => [frame({ type: 'abort', id: 5 })], answer: { silent: true } },
];

/** The descriptors a case attaches; each is closed by `release()` (the receiver's copies are its own). */
async function makeFds(kinds: FdKind[], keep: { client?: net.Socket; accepted?: net.Socket }[], cleanup: (() => void)[]): Promise<number[]> {
  const fds: number[] = [];
  for (const kind of kinds) {
    if (kind === 'tcp') {
      const pair = await tcpPair();
      keep.push(pair);
      cleanup.push(pair.close);
      fds.push(fdOf(pair.accepted));
    } else if (kind === 'file') {
      const fd = fs.openSync('/dev/null', 'r');
      cleanup.push(() => fs.closeSync(fd));
      fds.push(fd);
    } else if (kind === 'unix') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-unix-'));
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(path.join(dir, 'u.sock'), resolve));
      cleanup.push(() => server.close(() => fs.rmSync(dir, { recursive: true, force: true })));
      fds.push(fdOf(server));
    } else if (kind === 'udp') {
      // A plain UDP descriptor, made directly (dgram's _handle is deprecated, DEP0112).
      const fd = libc.socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0) throw new Error('socket(AF_INET, SOCK_DGRAM) failed');
      cleanup.push(() => libc.close(fd));
      fds.push(fd);
    } else {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup.push(() => server.close());
      fds.push(fdOf(server));
    }
  }
  return fds;
}

async function settle(driver: Driver, baseline: number): Promise<number> {
  for (let i = 0; i < 100 && driver.fds() !== baseline; i++) await new Promise((r) => setTimeout(r, 20));
  return driver.fds();
}

describeOnLinux('protocol conformance (docs/protocol.md), raw frames against each implementation', WHY, () => {
  let dir: string;
  beforeAll(() => {
    checkRuntimes();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-'));
  });
  afterAll(() => {
    killDrivers();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe.each(IMPLS)('receiver: %s', (impl) => {
    const drivers = new Map<string, { driver: Driver; endpoint: string; baseline: number; lines: Record<string, any>[] }>();
    const receiverFor = async (options: Record<string, unknown> = {}) => {
      const key = JSON.stringify(options);
      let entry = drivers.get(key);
      if (!entry) {
        const endpoint = path.join(dir, `${impl}-r${drivers.size}.sock`);
        const driver = startDriver(impl, ['receive', endpoint, key]);
        const ready = await driver.next();
        expect(ready).toMatchObject({ ready: driver.pid });
        entry = { driver, endpoint, baseline: driver.fds(), lines: [] };
        drivers.set(key, entry);
      }
      return entry;
    };

    afterAll(async () => {
      for (const { driver, baseline } of drivers.values()) {
        // Every descriptor that arrived and was not adopted is closed (adopted ones were closed by the driver).
        expect([impl, await settle(driver, baseline)]).toEqual([impl, baseline]);
        await driver.stop();
      }
    });

    const run = async (c: ReceiverCase) => {
      const r = await receiverFor(c.options);
      const { link, reader, hello: h } = await rawSender(r.endpoint);
      // Node offers version 2 as well on Linux; the peers speak 1. A version-1 sender gets version 1 from both.
      expect(h).toMatchObject({ type: 'hello', role: 'receiver', versions: impl === 'node' ? [1, 2] : [1], pid: r.driver.pid, secret: c.options?.secret !== undefined });
      const nonce = (h as { nonce: string }).nonce;
      expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
      if (!c.raw) {
        link.write(hello(process.pid));
        expect(await reader.next()).toEqual({ type: 'ready' });
      }
      const keep: { client?: net.Socket; accepted?: net.Socket }[] = [];
      const cleanup: (() => void)[] = [];
      try {
        for (const w of c.send(process.pid, nonce)) {
          if (Buffer.isBuffer(w)) link.write(w);
          else expect(sendWithDescriptors(link.fd, w.data, await makeFds(w.fds, keep, cleanup))).toBe(w.data.length);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (c.first && 'nack' in c.first) expect(await reader.next()).toMatchObject({ type: 'nack', id: c.first.id, code: c.first.nack });
        const a = c.answer;
        if ('silent' in a) {
          expect(await reader.next(300)).toBe('timeout');
        } else if ('ready' in a) {
          expect(await reader.next()).toEqual({ type: 'ready' });
        } else if ('error' in a) {
          expect(await reader.next()).toMatchObject({ type: 'error', code: a.error, message: expect.any(String) });
          expect(await reader.closes()).toBe(true);
          const clientError = await nextWith(r.driver, 'clientError', 5000, r.lines);
          expect(clientError.clientError).toBe(a.error);
          return;
        } else if ('nack' in a) {
          expect(await reader.next()).toMatchObject({ type: 'nack', id: a.id, code: a.nack, message: expect.any(String) });
        } else {
          expect(await reader.next()).toEqual({ type: 'ack', id: a.ack });
          if (c.then === 'abort') {
            link.write(frame({ type: 'abort', id: a.ack }));
            // The receiver closed its copy without shutdown: the connection still works through ours.
            const pair = keep.find((k) => k.client);
            if (pair?.client && pair.accepted) {
              pair.accepted.resume();
              const got = new Promise<string>((resolve) => pair.accepted?.once('data', (d) => resolve(String(d))));
              pair.client.write('still mine\n');
              expect(await got).toBe('still mine\n');
            }
          } else if (c.then === 'commit') {
            link.write(frame({ type: 'commit', id: a.ack }));
            const sentFrame = withoutFd(c.send(process.pid, nonce)[0]);
            const sent = JSON.parse(sentFrame.subarray(4).toString());
            const pair = keep.find((k) => k.client);
            const listening = c.send(process.pid, nonce).some((w) => !Buffer.isBuffer(w) && w.fds.includes('listener'));
            let reply: Promise<string> | undefined;
            if (!listening && pair?.client) {
              // Our copy goes (close, no shutdown) as a sender's would; the receiver's copy serves.
              pair.accepted?.destroy();
              reply = readAll(pair.client);
              pair.client.write(' tail\n');
            }
            const adopted = await nextWith(r.driver, 'adopted', 5000, r.lines);
            expect(adopted.adopted).toBe(a.ack);
            expect(adopted.meta ?? null).toEqual(sent.meta ?? null);
            expect(adopted.listening ?? false).toBe(listening);
            if (reply) {
              const head = sent.head ? Buffer.from(sent.head, 'base64').toString() : '';
              expect(await reply).toBe(`${impl} ${r.driver.pid} got ${head} tail\n`);
            }
          }
        }
        // The connection goes on after anything but an error: a real hand-off still works.
        const next = { data: frame({ type: 'socket', id: 4242, kind: 'socket' }), fds: ['tcp'] as FdKind[] };
        expect(sendWithDescriptors(link.fd, next.data, await makeFds(next.fds, keep, cleanup))).toBe(next.data.length);
        expect(await reader.next()).toEqual(c.options?.accept === 'decline' ? expect.objectContaining({ type: 'nack', id: 4242 }) : { type: 'ack', id: 4242 });
        link.write(frame({ type: 'abort', id: 4242 }));
      } finally {
        link.destroy();
        cleanup.forEach((f) => f());
      }
    };


    /** A session after the handshake, with helpers to hand over a fresh TCP connection. */
    const session = async () => {
      const r = await receiverFor();
      const { link, reader } = await rawSender(r.endpoint);
      link.write(hello(process.pid));
      expect(await reader.next()).toEqual({ type: 'ready' });
      const pairs: Awaited<ReturnType<typeof tcpPair>>[] = [];
      const offer = async (id: number, prefix: Buffer = Buffer.alloc(0)) => {
        const pair = await tcpPair();
        pairs.push(pair);
        const data = Buffer.concat([prefix, frame({ type: 'socket', id, kind: 'socket' })]);
        expect(sendWithDescriptors(link.fd, data, [fdOf(pair.accepted)])).toBe(data.length);
        return pair;
      };
      /** Our copy still carries the connection (the receiver dropped its copy without shutdown). */
      const stillOurs = async (pair: Awaited<ReturnType<typeof tcpPair>>) => {
        pair.accepted.resume();
        const got = new Promise<string>((resolve) => pair.accepted.once('data', (d) => resolve(String(d))));
        pair.client.write('still mine\n');
        expect(await got).toBe('still mine\n');
      };
      const done = () => {
        link.destroy();
        pairs.forEach((p) => p.close());
      };
      return { r, link, reader, offer, stillOurs, done };
    };

    it('socket: an id held (acknowledged, not committed) is nack ERR_MALFORMED_FRAME; the first hand-off is unaffected and a second commit is ignored', async () => {
      const { r, link, reader, offer, done } = await session();
      const first = await offer(7);
      expect(await reader.next()).toEqual({ type: 'ack', id: 7 });
      await offer(7);
      expect(await reader.next()).toMatchObject({ type: 'nack', id: 7, code: 'ERR_MALFORMED_FRAME' });
      link.write(frame({ type: 'commit', id: 7 }));
      first.accepted.destroy();
      const reply = readAll(first.client);
      first.client.write('first\n');
      expect(await reply).toBe(`${impl} ${r.driver.pid} got first\n`);
      expect(await nextWith(r.driver, 'adopted', 5000, r.lines)).toMatchObject({ adopted: 7 });
      link.write(frame({ type: 'commit', id: 7 }));
      expect(await reader.next(300)).toBe('timeout');
      // An id committed may come again.
      await offer(7);
      expect(await reader.next()).toEqual({ type: 'ack', id: 7 });
      link.write(frame({ type: 'abort', id: 7 }));
      done();
    });

    it('error: frames after the one that drew an error are ignored, even in the same read (a commit there adopts nothing)', async () => {
      const { r, link, reader, offer, stillOurs, done } = await session();
      const pair = await offer(1);
      expect(await reader.next()).toEqual({ type: 'ack', id: 1 });
      link.write(Buffer.concat([frame({ type: 'ping' }), frame({ type: 'commit', id: 1 })]));
      expect(await reader.next()).toMatchObject({ type: 'error', code: 'ERR_UNEXPECTED_MESSAGE' });
      expect(await reader.closes()).toBe(true);
      await stillOurs(pair);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([...r.driver.lines, ...r.lines].filter((l) => 'adopted' in l)).toEqual([]);
      r.lines.splice(0);
      r.driver.lines.splice(0);
      done();
    });

    it('descriptor: a receiver at its descriptor limit answers nack ERR_RECEIVER_BUSY and keeps the connection; once a descriptor is free the next hand-off is acknowledged', async () => {
      const { r, reader, offer, stillOurs, done } = await session();
      const pid = r.driver.pid;
      const open = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
      let lowestFree = 0;
      while (open.has(lowestFree)) lowestFree++;
      // RLIMIT_NOFILE bounds descriptor numbers: with the soft limit at the lowest free number, none can be installed.
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${lowestFree}:`]);
      try {
        const pair = await offer(1);
        expect(await reader.next()).toMatchObject({ type: 'nack', id: 1, code: 'ERR_RECEIVER_BUSY' });
        await stillOurs(pair);
      } finally {
        execFileSync('prlimit', ['--pid', String(pid), '--nofile=4096:']);
      }
      await offer(2);
      expect(await reader.next()).toEqual({ type: 'ack', id: 2 });
      done();
    });

    it('failure rules: the connection closing between ack and commit makes the receiver drop its copy, without shutdown', async () => {
      const { r, link, reader, offer, stillOurs, done } = await session();
      const pair = await offer(1);
      expect(await reader.next()).toEqual({ type: 'ack', id: 1 });
      link.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await stillOurs(pair);
      expect(r.driver.lines.filter((l) => 'adopted' in l)).toEqual([]);
      done();
    });

    it.each(HANDSHAKE.map((c) => [c.rule, c] as const))('%s', async (_rule, c) => run(c));
    it.each(HANDOFF.filter((c) => !c.only || c.only.includes(impl)).map((c) => [c.rule, c] as const))('%s', async (_rule, c) => run(c));
  });

  describe.each(IMPLS)('sender: %s', (impl) => {
    let n = 0;
    /** Starts the implementation's sender against a raw receiver; returns both ends. */
    const start = async (options: Record<string, unknown> = {}) => {
      const endpoint = path.join(dir, `${impl}-s${n++}.sock`);
      const receiver = rawReceiver(endpoint);
      const driver = startDriver(impl, ['send', endpoint, '1', JSON.stringify(options)]);
      const conn = await receiver.accept();
      expect(conn.peer.pid).toBe(driver.pid);
      return { receiver, driver, conn };
    };
    const receiverHello = (extra: object = {}) => frame({ type: 'hello', role: 'receiver', versions: [1], pid: process.pid, nonce: 'bm9uY2Vub25jZW5vbmNlMQ==', secret: false, ...extra });

    /** The first frame the receiver writes decides whether the sender goes on. */
    it.each([
      ['order: a first frame other than the receiver hello is ERR_MALFORMED_FRAME', frame({ type: 'ready' }), 'ERR_MALFORMED_FRAME'],
      ['error as first frame: the sender fails with its code (here ERR_FOREIGN_UID)', frame({ type: 'error', code: 'ERR_FOREIGN_UID', message: 'no' }), 'ERR_FOREIGN_UID'],
      ['hello: versions without 1 is ERR_UNSUPPORTED_VERSION', receiverHello({ versions: [3, 4] }), 'ERR_UNSUPPORTED_VERSION'],
      ['hello: versions must be integers', receiverHello({ versions: ['1'] }), 'ERR_MALFORMED_FRAME'],
      ['hello: nonce longer than 128 is ERR_MALFORMED_FRAME', receiverHello({ nonce: 'x'.repeat(129) }), 'ERR_MALFORMED_FRAME'],
      ['hello: secret is required', frame({ type: 'hello', role: 'receiver', versions: [1], pid: process.pid, nonce: 'n' }), 'ERR_MALFORMED_FRAME'],
      ['hello: pid must be a positive integer', receiverHello({ pid: -1 }), 'ERR_MALFORMED_FRAME'],
      ['hello: a secret required and none configured is ERR_CHANNEL_AUTH', receiverHello({ secret: true }), 'ERR_CHANNEL_AUTH'],
      ['frames: a length above 1 MiB is ERR_FRAME_TOO_LARGE', Buffer.from([0, 0x20, 0, 0]), 'ERR_FRAME_TOO_LARGE'],
    ])('%s', async (_rule, first, code) => {
      const { receiver, driver, conn } = await start();
      conn.link.write(first as Buffer);
      expect(await driver.next()).toMatchObject({ error: code });
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it.each([
      ['handshake: ack instead of ready is ERR_UNEXPECTED_MESSAGE', frame({ type: 'ack', id: 1 }), 'ERR_UNEXPECTED_MESSAGE'],
      ['handshake: error instead of ready fails with its code', frame({ type: 'error', code: 'ERR_PID_MISMATCH', message: 'liar' }), 'ERR_PID_MISMATCH'],
    ])('%s', async (_rule, second, code) => {
      const { receiver, driver, conn } = await start();
      conn.link.write(receiverHello());
      expect(await conn.reader.next()).toEqual({ type: 'hello', role: 'sender', version: 1, pid: driver.pid });
      conn.link.write(second as Buffer);
      expect(await driver.next()).toMatchObject({ error: code });
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it('hello: versions may list unknown ones; the sender picks 1, proves the secret with lowercase hex HMAC-SHA256(secret, nonce)', async () => {
      const { receiver, driver, conn } = await start({ secret: 'k3y' });
      const nonce = 'bm9uY2Vub25jZW5vbmNlMQ==';
      conn.link.write(receiverHello({ versions: [7, 1], secret: true, nonce, extra: 'ignored' }));
      expect(await conn.reader.next()).toEqual({ type: 'hello', role: 'sender', version: 1, pid: driver.pid, proof: createHmac('sha256', 'k3y').update(nonce).digest('hex') });
      conn.link.write(frame({ type: 'ready' }));
      expect(await driver.next()).toMatchObject({ port: expect.any(Number), receiverPid: process.pid });
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    /** One hand-off, answered by the raw receiver as `answer` says; what the sender does with its socket. */
    const handOff = async (answer: (conn: Awaited<ReturnType<typeof start>>['conn'], id: number, fd: number) => void, options: Record<string, unknown> = {}, helloExtra: object = {}) => {
      const { receiver, driver, conn } = await start(options);
      conn.link.write(receiverHello(helloExtra));
      await conn.reader.next();
      conn.link.write(frame({ type: 'ready' }));
      const { port } = await nextWith(driver, 'port');
      const reply = ask(port, 'line one');
      const got = await conn.reader.nextWithFds();
      expect(got?.message).toMatchObject({ type: 'socket', id: 1, kind: 'socket', head: Buffer.from('line one\n').toString('base64'), meta: { n: 0 } });
      // Exactly one descriptor, with the read that holds the frame's first byte, and it is the TCP connection.
      expect(got?.fds).toHaveLength(1);
      const fd = (got?.fds as number[])[0];
      answer(conn, 1, fd);
      const outcome = await driver.next(15000);
      return { receiver, driver, conn, outcome, reply, fd, message: got?.message };
    };

    /** After an ack: the sender's commit arrives, and the descriptor it sent serves the client from here. */
    const committedAndServed = async (conn: Awaited<ReturnType<typeof start>>['conn'], fd: number, reply: Promise<string>, text = 'served by the raw receiver\n') => {
      expect(await conn.reader.next()).toEqual({ type: 'commit', id: 1 });
      new net.Socket({ fd, readable: true, writable: true }).end(text);
      expect(await reply).toBe(text);
    };

    it('hello: socketForm "mapping" (the Windows mapping form) is ignored on Linux: the socket travels as its descriptor, with neither mapping nor token', async () => {
      const { receiver, driver, conn, outcome, reply, fd, message } = await handOff((c, id) => c.link.write(frame({ type: 'ack', id })), {}, { socketForm: 'mapping' });
      expect(outcome).toEqual({ sent: 1 });
      expect([message?.mapping, message?.token]).toEqual([undefined, undefined]);
      await committedAndServed(conn, fd, reply);
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it('ack: the sender writes commit and closes its copy; the socket is the receiver\'s, in the sender\'s blocking mode', async () => {
      const { receiver, driver, conn, outcome, reply, fd } = await handOff((c, id) => c.link.write(frame({ type: 'ack', id })));
      expect(outcome).toEqual({ sent: 1 });
      // Blocking mode is shared: Node's sockets are non-blocking, Python's and PHP's accepted ones are not.
      expect([impl, (libc.fcntl(fd, F_GETFL) & O_NONBLOCK) !== 0]).toEqual([impl, impl === 'node']);
      await committedAndServed(conn, fd, reply);
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it.each([
      ['nack: the send fails with ERR_HANDOFF_REFUSED (reason: its code) and the sender keeps the socket', (c: any, id: number) => c.link.write(frame({ type: 'nack', id, code: 'ERR_HANDOFF_DECLINED', message: 'busy' })), { refused: 'ERR_HANDOFF_REFUSED', reason: 'ERR_HANDOFF_DECLINED' }],
      ['error during a hand-off: the send fails with its code and the sender keeps the socket', (c: any) => c.link.write(frame({ type: 'error', code: 'ERR_MALFORMED_FRAME', message: 'x' })), { refused: 'ERR_MALFORMED_FRAME' }],
      ['receiver gone during a hand-off: ERR_RECEIVER_GONE, the sender keeps the socket', (c: any) => c.link.destroy(), { refused: 'ERR_RECEIVER_GONE' }],
      ['an unknown type from the receiver is ERR_UNEXPECTED_MESSAGE, the sender keeps the socket', (c: any) => c.link.write(frame({ type: 'socket', id: 1, kind: 'socket' })), { refused: 'ERR_UNEXPECTED_MESSAGE' }],
      ['a nack without code is ERR_MALFORMED_FRAME, the sender keeps the socket', (c: any, id: number) => c.link.write(frame({ type: 'nack', id, message: 'x' })), { refused: 'ERR_MALFORMED_FRAME' }],
    ])('%s', async (_rule, answer, expected) => {
      const { receiver, driver, conn, outcome, reply, fd } = await handOff(answer);
      expect(outcome).toMatchObject(expected);
      fs.closeSync(fd); // the receiver's copy: gone without shutdown
      expect(await reply).toBe(`${impl} ${driver.pid} kept line one\n`);
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it('a descriptor from the receiver (on a socket frame) fails the sender (ERR_UNEXPECTED_MESSAGE), which closes it and keeps its own socket', async () => {
      const marker = path.join(dir, `marker-${impl}`);
      fs.writeFileSync(marker, '');
      const { receiver, driver, conn, outcome, reply, fd } = await handOff((c) => {
        const f = fs.openSync(marker, 'r');
        sendWithDescriptors(c.link.fd, frame({ type: 'socket', id: 1, kind: 'socket' }), [f]);
        fs.closeSync(f);
      }, { wait: true });
      expect(outcome).toMatchObject({ refused: 'ERR_UNEXPECTED_MESSAGE' });
      fs.closeSync(fd);
      expect(await reply).toBe(`${impl} ${driver.pid} kept line one\n`);
      await nextWith(driver, 'done');
      const open = fs.readdirSync(`/proc/${driver.pid}/fd`).map((f) => { try { return fs.readlinkSync(`/proc/${driver.pid}/fd/${f}`); } catch { return ''; } });
      expect(open).not.toContain(marker);
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it('no answer within the ack timeout: the sender writes abort and keeps the socket (ERR_HANDOFF_TIMEOUT)', async () => {
      const { receiver, driver, conn, outcome, reply, fd } = await handOff(() => undefined, { ack_timeout: 0.4 });
      expect(outcome).toMatchObject({ refused: 'ERR_HANDOFF_TIMEOUT' });
      expect(await conn.reader.next()).toEqual({ type: 'abort', id: 1 });
      fs.closeSync(fd);
      expect(await reply).toBe(`${impl} ${driver.pid} kept line one\n`);
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });

    it('answers for other ids and a second ready are ignored; the ack for this id still counts', async () => {
      const { receiver, driver, conn, outcome, fd, reply } = await handOff((c, id) => {
        c.link.write(Buffer.concat([frame({ type: 'ready' }), frame({ type: 'ack', id: 99 }), frame({ type: 'nack', id: 98, code: 'X', message: 'y' }), frame({ type: 'ack', id })]));
      });
      expect(outcome).toEqual({ sent: 1 });
      await committedAndServed(conn, fd, reply, 'ok\n');
      await driver.stop();
      conn.link.destroy();
      receiver.close();
    });
  });
});
