/** UnixLink: bytes and descriptors over a Unix stream socket read with recvmmsg and written with sendmsg. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as libc from '../../src/posix/libc';
import { SHUT_RD } from '../../src/posix/constants';
import { connectUnix } from '../../src/posix/unix-connect';
import type { UnixLink } from '../../src/posix/unix-link';
import { UnixListener } from '../../src/posix/unix-listener';
import type { ReceivedDescriptor } from '../../src/posix/received-descriptor';
import { openDescriptors } from '../support/send-descriptors';
import { describeOnLinux } from '../support/platform';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describeOnLinux('UnixLink', 'Unix sockets with SCM_RIGHTS', () => {
  let dir: string;
  let listener: UnixListener;
  let accepted: UnixLink[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unix-link-test-'));
    listener = UnixListener.listen(path.join(dir, 'l.sock'), (link) => accepted.push(link), (err) => { throw err; });
  });
  afterAll(() => {
    listener.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function pair(): Promise<[UnixLink, UnixLink]> {
    accepted = [];
    const a = await connectUnix(listener.path, 1000);
    while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    return [a, accepted[0]];
  }

  /** What a link emits, in order: `data <text>` and `error <code> <syscall>`; `closed` resolves on 'close'. */
  function record(link: UnixLink): { events: string[]; closed: Promise<void> } {
    const events: string[] = [];
    link.on('data', (chunk: Buffer) => events.push(`data ${chunk}`));
    link.on('error', (err: NodeJS.ErrnoException) => events.push(`error ${err.code} ${err.syscall}`));
    return { events, closed: new Promise((resolve) => link.on('close', () => resolve())) };
  }

  function collect(link: UnixLink): Promise<{ data: Buffer; descriptors: ReceivedDescriptor[] }> {
    const chunks: Buffer[] = [];
    const descriptors: ReceivedDescriptor[] = [];
    link.on('data', (chunk: Buffer, ds: ReceivedDescriptor[]) => {
      chunks.push(chunk);
      descriptors.push(...ds);
    });
    return new Promise((resolve) => link.on('close', () => resolve({ data: Buffer.concat(chunks), descriptors })));
  }

  it('carries 8 MiB intact through a full socket buffer, then end() shuts down and both sides close', async () => {
    const [a, b] = await pair();
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i * 2654435761 >>> 0, i);
    const got = collect(b);
    const aClosed = new Promise((resolve) => a.on('close', resolve));
    expect(a.write(payload)).toBe(true);
    a.end();
    expect(a.writable).toBe(false);
    const { data } = await got;
    expect(data.length).toBe(payload.length);
    expect(sha(data)).toBe(sha(payload));
    b.destroy();
    await aClosed;
    expect(a.closed).toBe(true);
  });

  it('sends a copy of a descriptor with the first byte: the caller may close its own at once, the copy works', async () => {
    const [a, b] = await pair();
    const server = net.createServer((s) => s.end('hello from the server\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.pause();
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const first = new Promise<{ chunk: Buffer; descriptors: ReceivedDescriptor[] }>((resolve) => b.once('data', (chunk: Buffer, descriptors: ReceivedDescriptor[]) => resolve({ chunk, descriptors })));
    a.writeWithDescriptor(Buffer.from('frame'), fd);
    client.destroy();
    const { chunk, descriptors } = await first;
    expect(String(chunk)).toBe('frame');
    expect(descriptors).toHaveLength(1);
    const adopted = new net.Socket({ fd: descriptors[0].take(), readable: true, writable: true });
    const text = await new Promise<string>((resolve) => {
      let t = '';
      adopted.on('data', (d) => (t += d));
      adopted.on('end', () => resolve(t));
    });
    expect(text).toBe('hello from the server\n');
    adopted.destroy();
    server.close();
    a.destroy();
    b.destroy();
  });

  it('holds what data listeners write during a burst of reads, sends it in one sendmsg, then emits readEnd', async () => {
    const [a, b] = await pair();
    const sendmsg = jest.spyOn(libc, 'sendmsg');
    const events: string[] = [];
    b.on('data', (chunk: Buffer) => {
      events.push(`data ${chunk}`);
      for (const reply of ['r1;', 'r2;', 'r3;']) b.write(Buffer.from(reply));
      events.push(`held ${b.writableLength}`);
    });
    b.on('readEnd', () => events.push(`readEnd ${b.writableLength}`));
    const replies = new Promise<string>((resolve) => {
      let text = '';
      a.on('data', (chunk: Buffer) => (text += chunk) && text.length >= 9 && resolve(text));
    });
    a.write(Buffer.from('ping'));
    expect(await replies).toBe('r1;r2;r3;');
    expect(events).toEqual(['data ping', 'held 9', 'readEnd 0']);
    expect(sendmsg.mock.calls.filter(([fd]) => fd === b.fd)).toHaveLength(1);
    sendmsg.mockRestore();
    a.destroy();
    b.destroy();
  });

  it('keeps order and descriptors when a burst\'s writes include one with a descriptor', async () => {
    const [a, b] = await pair();
    const before = openDescriptors();
    const sendmsg = jest.spyOn(libc, 'sendmsg');
    b.once('data', () => {
      b.write(Buffer.from('x'));
      b.writeWithDescriptor(Buffer.from('y'), 0);
      b.write(Buffer.from('z1'));
      b.write(Buffer.from('z2'));
    });
    const got = new Promise<{ text: string; descriptors: ReceivedDescriptor[] }>((resolve) => {
      let text = '';
      const descriptors: ReceivedDescriptor[] = [];
      a.on('data', (chunk: Buffer, ds: ReceivedDescriptor[]) => {
        text += chunk;
        descriptors.push(...ds);
        if (text.length >= 6) resolve({ text, descriptors });
      });
    });
    a.write(Buffer.from('go'));
    const { text, descriptors } = await got;
    expect(text).toBe('xyz1z2');
    expect(descriptors).toHaveLength(1);
    // The bytes before the descriptor, the descriptor's own, and the two after it joined.
    expect(sendmsg.mock.calls.filter(([fd]) => fd === b.fd)).toHaveLength(3);
    sendmsg.mockRestore();
    for (const d of descriptors) d.close();
    expect(openDescriptors()).toBe(before);
    a.destroy();
    b.destroy();
  });

  it('reads many messages in one recvmmsg, each descriptor with the bytes it came with, across more than one call', async () => {
    const [a, b] = await pair();
    const before = openDescriptors();
    const recvmmsg = jest.spyOn(libc, 'recvmmsg');
    b.deferReads(100); // let all twelve queue up in the kernel first
    const got: { text: string; descriptors: number }[] = [];
    const all = new Promise<void>((resolve) =>
      b.on('data', (chunk: Buffer, ds: ReceivedDescriptor[]) => {
        got.push({ text: String(chunk), descriptors: ds.length });
        for (const d of ds) d.close();
        if (got.length === 12) resolve();
      }),
    );
    // Each write carries a descriptor, so the kernel ends a read after each: twelve messages.
    for (let i = 0; i < 12; i++) a.writeWithDescriptor(Buffer.from(`frame ${i};`), 0);
    await all;
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => ({ text: `frame ${i};`, descriptors: 1 })));
    // Eight messages per call: two calls for the twelve, none of them an empty EAGAIN read.
    expect(recvmmsg.mock.calls.filter(([fd]) => fd === b.fd)).toHaveLength(2);
    recvmmsg.mockRestore();
    expect(openDescriptors()).toBe(before);
    a.destroy();
    b.destroy();
  });

  it('deferReads: what the peer writes meanwhile wakes nothing, then is read in one burst; readNow() still reads at once', async () => {
    const [a, b] = await pair();
    const chunks: string[] = [];
    b.on('data', (chunk: Buffer) => chunks.push(String(chunk)));
    b.deferReads(150);
    b.deferReads(10_000); // a deferral already running is not extended
    a.write(Buffer.from('one;'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(chunks).toEqual([]);
    b.readNow();
    expect(chunks).toEqual(['one;']);
    a.write(Buffer.from('two;'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(chunks).toEqual(['one;']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(chunks).toEqual(['one;', 'two;']);
    // Watching again: the next write is read as it comes.
    a.write(Buffer.from('three;'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(chunks).toEqual(['one;', 'two;', 'three;']);
    // Destroyed while deferred: nothing is read afterwards, and 'close' comes as usual.
    b.deferReads(50);
    a.write(Buffer.from('four;'));
    a.on('error', () => undefined); // b closes with 'four;' unread: a's next read is ECONNRESET
    const closed = new Promise((resolve) => b.on('close', resolve));
    b.destroy();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(chunks).toEqual(['one;', 'two;', 'three;']);
    a.destroy();
  });

  it('readNow() reads everything already queued, past the messages one readable event takes', async () => {
    const [a, b] = await pair();
    const before = openDescriptors();
    b.deferReads(10_000);
    const got: string[] = [];
    b.on('data', (chunk: Buffer, ds: ReceivedDescriptor[]) => {
      got.push(String(chunk));
      for (const d of ds) d.close();
    });
    // Forty messages (a descriptor ends each), where one readable event reads at most sixteen.
    for (let i = 0; i < 40; i++) a.writeWithDescriptor(Buffer.from(`frame ${i};`), 0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(got).toEqual([]);
    b.readNow();
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `frame ${i};`));
    expect(openDescriptors()).toBe(before);
    a.destroy();
    b.destroy();
  });

  it.each([
    ['write', (link: UnixLink) => link.write(Buffer.from('x'))],
    ['writeWithDescriptor', (link: UnixLink) => link.writeWithDescriptor(Buffer.from('x'), 0)],
  ])('a %s that finds the peer gone first reads what the peer wrote before it went, even while reads are deferred', async (_name, write) => {
    const [a, b] = await pair();
    const { events, closed } = record(b);
    b.deferReads(10_000);
    a.write(Buffer.from('ack 1;'));
    a.write(Buffer.from('ack 2;'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    a.destroy();
    await new Promise((resolve) => a.on('close', resolve));
    expect(events).toEqual([]);
    const before = openDescriptors();
    expect(write(b)).toBe(false);
    // Read synchronously, before the write returned: the bytes, then the end of the stream.
    expect(events.join('|')).toMatch(/^data ack 1;(\|data )?ack 2;$/);
    expect(b.destroyed).toBe(true);
    expect(b.write(Buffer.from('y'))).toBe(false);
    await closed;
    expect(openDescriptors()).toBe(before - 1); // its own socket; no copy of descriptor 0 was kept
  });

  it('a peer that closed with our bytes unread: what it wrote before is still read, then the link closes with ECONNRESET', async () => {
    const [a, b] = await pair();
    const { events, closed } = record(b);
    a.deferReads(10_000);
    b.deferReads(10_000);
    b.write(Buffer.from('socket 1;')); // never read by a
    a.write(Buffer.from('ack 0;'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    a.destroy(); // with 'socket 1;' unread: the kernel leaves ECONNRESET pending on b
    await new Promise((resolve) => setTimeout(resolve, 30));
    // recvmmsg() reports the pending ECONNRESET before any byte; the bytes are read all the same.
    b.readNow();
    expect(events).toEqual(['data ack 0;']);
    await closed;
    expect(events).toEqual(['data ack 0;', 'error ECONNRESET recvmmsg']);
  });

  it('a peer that only shut its reading side: a failed write reads what is queued, then closes with EPIPE', async () => {
    const [a, b] = await pair();
    const { events, closed } = record(b);
    a.write(Buffer.from('still here;'));
    a.deferReads(10_000); // a UnixLink would read its own end of stream and close: keep it open
    libc.shutdown(a.fd, SHUT_RD);
    b.deferReads(10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The peer is alive, so the stream does not end: the read stops where it would block, and the
    // write is not retried (no loop between the failed write and the read).
    expect(b.write(Buffer.from('x'))).toBe(false);
    expect(events).toEqual(['data still here;']);
    await closed;
    expect(events).toEqual(['data still here;', 'error EPIPE sendmsg']);
    a.destroy();
  });

  it('refuses to write after destroy without making a copy, and survives a peer that vanishes mid-write', async () => {
    const [a, b] = await pair();
    const before = openDescriptors();
    a.destroy();
    expect(a.write(Buffer.from('x'))).toBe(false);
    expect(a.writeWithDescriptor(Buffer.from('x'), 0)).toBe(false);
    await new Promise((resolve) => a.on('close', resolve));
    expect(openDescriptors()).toBe(before - 1);

    const [c, d] = await pair();
    const errors: string[] = [];
    c.on('error', (err: NodeJS.ErrnoException) => errors.push(`${err.code} ${err.syscall}`));
    const closed = new Promise((resolve) => c.on('close', resolve));
    c.write(Buffer.alloc(4 * 1024 * 1024));
    d.destroy();
    await closed;
    expect(errors.every((e) => /^(EPIPE|ECONNRESET) (sendmsg|recvmmsg)/.test(e))).toBe(true);
    b.destroy();
  });
});
