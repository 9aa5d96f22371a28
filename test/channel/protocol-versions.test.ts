/**
 * Protocol versions end to end on the Linux transport (src/channel/sender.ts, receiver.ts,
 * messages.ts): version-1 peers written from the version-1 docs keep working with a Node side that
 * speaks 2, both ways; and version 2's own rules: delivery on receipt, a late frame refused with
 * ERR_HANDOFF_LATE, `held` answered with commit or abort. Peers here write raw frames.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { monotonicMicros } from '../../src/channel/clock';
import { encodeFrame, FrameDecoder } from '../../src/channel/frame-codec';
import { openReceiver, type SocketReceiver } from '../../src/channel/receiver';
import { openSender, type SendResult } from '../../src/channel/sender';
import * as libc from '../../src/posix/libc';
import { connectUnix } from '../../src/posix/unix-connect';
import type { UnixLink } from '../../src/posix/unix-link';
import { fdOf, rawReceiver as rawUnixReceiver, readAll, tcpPair } from '../support/channel-peers';
import { describeOnLinux } from '../support/platform';
import { openDescriptors, sendWithDescriptors } from '../support/send-descriptors';

const WHY = 'protocol 2 runs on the Unix-socket transport';

type Frame = Record<string, unknown>;

/** Frames in from a byte stream, waited for one at a time (undefined once it closed). */
function frameReader(stream: NodeJS.EventEmitter) {
  const decoder = new FrameDecoder();
  const got: Frame[] = [];
  let waiter: (() => void) | undefined;
  let closed = false;
  stream.on('data', (chunk: Buffer) => {
    got.push(...decoder.push(chunk));
    waiter?.();
  });
  stream.on('close', () => {
    closed = true;
    waiter?.();
  });
  const next = async (ms = 2000): Promise<Frame | undefined> => {
    const until = Date.now() + ms;
    while (got.length === 0 && !closed && Date.now() < until) {
      await new Promise<void>((resolve) => {
        waiter = resolve;
        setTimeout(resolve, 20);
      });
    }
    return got.shift();
  };
  return { next };
}

/** A raw sender speaking `version`. */
async function rawSender(endpoint: string, version: number) {
  const link: UnixLink = await connectUnix(endpoint, 1000);
  const reader = frameReader(link);
  const hello = await reader.next();
  link.write(encodeFrame({ type: 'hello', role: 'sender', version, pid: process.pid }));
  expect(await reader.next()).toEqual({ type: 'ready' });
  return { link, hello, next: reader.next };
}

describeOnLinux('protocol versions on the Linux transport', WHY, () => {
  let dir: string;
  let receiver: SocketReceiver;
  const adopted: number[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'versions-test-'));
    receiver = await openReceiver(path.join(dir, 'chan.sock'), (socket, info) => {
      adopted.push(info.id);
      (socket as net.Socket).end(`adopted ${info.id}\n`);
    });
  });

  afterAll(async () => {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a Node receiver offers versions 1 and 2, and serves a version-1 sender the version-1 way (ack, commit, adopt)', async () => {
    const peer = await rawSender(receiver.endpoint, 1);
    expect(peer.hello).toMatchObject({ type: 'hello', role: 'receiver', versions: [1, 2] });
    const { client, accepted } = await tcpPair();
    sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 1, kind: 'socket' }), [fdOf(accepted)]);
    expect(await peer.next()).toEqual({ type: 'ack', id: 1 });
    // Not adopted before the commit.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(adopted).not.toContain(1);
    peer.link.write(encodeFrame({ type: 'commit', id: 1 }));
    accepted.destroy();
    expect(await readAll(client)).toBe('adopted 1\n');
    peer.link.destroy();
  });

  it('version 2: adopts on receipt, with no commit, when the ack beats the deadline', async () => {
    const peer = await rawSender(receiver.endpoint, 2);
    const { client, accepted } = await tcpPair();
    sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 7, kind: 'socket', deadline: monotonicMicros() + 5_000_000 }), [fdOf(accepted)]);
    expect(await peer.next()).toEqual({ type: 'ack', id: 7 });
    accepted.destroy();
    expect(await readAll(client)).toBe('adopted 7\n');
    expect(await peer.next(200)).toBeUndefined(); // no `held`
    peer.link.destroy();
  });

  it('version 2: a frame read after its deadline is refused with ERR_HANDOFF_LATE and its descriptor closed', async () => {
    const peer = await rawSender(receiver.endpoint, 2);
    const { client, accepted } = await tcpPair();
    const before = openDescriptors();
    sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 8, kind: 'socket', deadline: monotonicMicros() - 1 }), [fdOf(accepted)]);
    expect(await peer.next()).toMatchObject({ type: 'nack', id: 8, code: 'ERR_HANDOFF_LATE' });
    expect(openDescriptors()).toBe(before);
    expect(adopted).not.toContain(8);
    client.destroy();
    accepted.destroy();
    peer.link.destroy();
  });

  it('version 2: socket frames read together are acknowledged in one write, then each is adopted', async () => {
    const peer = await rawSender(receiver.endpoint, 2);
    const pairs = [await tcpPair(), await tcpPair(), await tcpPair()];
    const sendmsg = jest.spyOn(libc, 'sendmsg');
    const deadline = monotonicMicros() + 5_000_000;
    // Written before the receiver's event loop runs, so it reads all three in one burst.
    pairs.forEach(({ accepted }, i) => sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 30 + i, kind: 'socket', deadline }), [fdOf(accepted)]));
    for (const { accepted } of pairs) accepted.destroy();
    expect(await Promise.all(pairs.map(({ client }) => readAll(client)))).toEqual(['adopted 30\n', 'adopted 31\n', 'adopted 32\n']);
    expect([await peer.next(), await peer.next(), await peer.next()]).toEqual([30, 31, 32].map((id) => ({ type: 'ack', id })));
    // The receiver's only writes: the three acks, in one sendmsg (the raw peer writes with its own).
    expect(sendmsg.mock.calls.filter(([fd]) => fd !== peer.link.fd)).toHaveLength(1);
    sendmsg.mockRestore();
    expect(await peer.next(200)).toBeUndefined(); // no `held`
    peer.link.destroy();
  });

  it('version 2: an abort read with the socket frame it cancels wins: not adopted, no `held`, the socket stays the sender\'s', async () => {
    const peer = await rawSender(receiver.endpoint, 2);
    const { client, accepted } = await tcpPair();
    const before = openDescriptors();
    sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 40, kind: 'socket', deadline: monotonicMicros() + 5_000_000 }), [fdOf(accepted)]);
    peer.link.write(encodeFrame({ type: 'abort', id: 40 }));
    expect(await peer.next()).toEqual({ type: 'ack', id: 40 });
    expect(await peer.next(200)).toBeUndefined();
    expect(adopted).not.toContain(40);
    expect(openDescriptors()).toBe(before);
    // Still the sender's, and it works.
    const echoed = new Promise<string>((resolve) => client.once('data', (d) => resolve(String(d))));
    accepted.resume();
    accepted.write('still ours\n');
    expect(await echoed).toBe('still ours\n');
    client.destroy();
    accepted.destroy();
    peer.link.destroy();
  });

  it('version 2: a socket frame without a deadline breaks the protocol', async () => {
    const peer = await rawSender(receiver.endpoint, 2);
    const { client, accepted } = await tcpPair();
    sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'socket', id: 9, kind: 'socket' }), [fdOf(accepted)]);
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'ERR_MALFORMED_FRAME' });
    client.destroy();
    accepted.destroy();
  });
});

describeOnLinux('a Node sender against raw receivers', WHY, () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'versions-sender-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** What a send settles with: its result, or its error's code (so no rejection goes unhandled meanwhile). */
  const settled = (sent: Promise<SendResult>) =>
    sent.then(
      (result) => result,
      (err: NodeJS.ErrnoException) => err.code,
    );

  /** A raw receiver offering `versions`; plain reads close the descriptors that come (they are copies). */
  async function rawReceiver(versions: number[]) {
    const endpoint = path.join(dir, `r${versions.join('')}-${Math.random().toString(36).slice(2)}.sock`);
    let resolveConn: (value: { socket: net.Socket; next: (ms?: number) => Promise<Frame | undefined> }) => void;
    const conn = new Promise<{ socket: net.Socket; next: (ms?: number) => Promise<Frame | undefined> }>((resolve) => (resolveConn = resolve));
    const server = net.createServer((socket) => {
      const reader = frameReader(socket);
      socket.write(encodeFrame({ type: 'hello', role: 'receiver', versions, pid: process.pid, nonce: 'n', secret: false }));
      void reader.next().then((hello) => {
        expect(hello).toMatchObject({ type: 'hello', role: 'sender' });
        socket.write(encodeFrame({ type: 'ready' }));
        resolveConn({ socket, next: reader.next });
      });
    });
    await new Promise<void>((resolve) => server.listen(endpoint, resolve));
    return { endpoint, server, conn };
  }

  it('speaks version 1 to a version-1 receiver: no deadline, and a commit after the ack', async () => {
    const raw = await rawReceiver([1]);
    // Version 1 reads every answer as it comes, whatever ackReadDelay says: the receiver waits for the commit.
    const sender = await openSender(raw.endpoint, { ackReadDelay: 1000 });
    expect(sender.protocolVersion).toBe(1);
    expect(sender.ackReadDelay).toBe(0);
    const { socket, next } = await raw.conn;
    const { client, accepted } = await tcpPair();
    const sent = sender.send(accepted);
    const frame = await next();
    expect(frame).toMatchObject({ type: 'socket', id: 1, kind: 'socket' });
    expect(frame).not.toHaveProperty('deadline');
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    expect(await next(500)).toEqual({ type: 'commit', id: 1 });
    await expect(sent).resolves.toEqual({ id: 1, receiverPid: process.pid });
    client.destroy();
    await sender.close();
    raw.server.close();
  });

  it('speaks version 2 to a receiver that offers it: a deadline, no commit, and `held` answered with commit', async () => {
    const raw = await rawReceiver([1, 2]);
    const sender = await openSender(raw.endpoint, { ackTimeout: 5000 });
    expect(sender.protocolVersion).toBe(2);
    expect(sender.ackReadDelay).toBe(5); // the default
    const { socket, next } = await raw.conn;
    const { client, accepted } = await tcpPair();
    const sent = sender.send(accepted);
    const frame = (await next()) as Frame;
    expect(frame).toMatchObject({ type: 'socket', id: 1 });
    expect(frame.deadline as number).toBeGreaterThan(monotonicMicros());
    expect(frame.deadline as number).toBeLessThanOrEqual(monotonicMicros() + 5_000_000);
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    await expect(sent).resolves.toEqual({ id: 1, receiverPid: process.pid });
    expect(accepted.destroyed).toBe(true);
    expect(await next(200)).toBeUndefined(); // no commit
    socket.write(encodeFrame({ type: 'held', id: 1 }));
    expect(await next()).toEqual({ type: 'commit', id: 1 });
    client.destroy();
    await sender.close();
    raw.server.close();
  });

  it('version 2: past its deadline the sender aborts, gives the socket back, and answers a late `held` with nothing more', async () => {
    const raw = await rawReceiver([1, 2]);
    const sender = await openSender(raw.endpoint, { ackTimeout: 150 });
    const { socket, next } = await raw.conn;
    const { client, accepted } = await tcpPair();
    const sent = sender.send(accepted);
    expect(await next()).toMatchObject({ type: 'socket', id: 1 });
    await expect(sent).rejects.toEqual(expect.objectContaining({ code: 'ERR_HANDOFF_TIMEOUT' }));
    expect(accepted.destroyed).toBe(false);
    expect(await next()).toEqual({ type: 'abort', id: 1 });
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    socket.write(encodeFrame({ type: 'held', id: 1 }));
    expect(await next(200)).toBeUndefined(); // the abort already said it: no commit
    client.destroy();
    accepted.destroy();
    await sender.close();
    raw.server.close();
  });

  it.each([
    [300, false],
    [0, true],
  ])('version 2: with ackReadDelay %i, an ack written at once has settled send() 100 ms later: %p', async (ackReadDelay, settledSoon) => {
    const raw = await rawReceiver([1, 2]);
    const sender = await openSender(raw.endpoint, { ackReadDelay });
    expect(sender.ackReadDelay).toBe(ackReadDelay);
    const { socket, next } = await raw.conn;
    const { client, accepted } = await tcpPair();
    let settled = false;
    const sent = sender.send(accepted).finally(() => (settled = true));
    expect(await next()).toMatchObject({ type: 'socket', id: 1 });
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(settledSoon);
    // Until the ack is read, this process's copy stays open (as for any send still waiting).
    expect(accepted.destroyed).toBe(settledSoon);
    await expect(sent).resolves.toEqual({ id: 1, receiverPid: process.pid });
    expect(accepted.destroyed).toBe(true);
    client.destroy();
    await sender.close();
    raw.server.close();
  });

  it('version 2: a send made after an earlier one settled still times out at its own deadline, not the earlier one', async () => {
    const raw = await rawReceiver([1, 2]);
    const sender = await openSender(raw.endpoint, { ackTimeout: 400, ackReadDelay: 0 });
    const { socket, next } = await raw.conn;
    const first = await tcpPair();
    const sentFirst = sender.send(first.accepted);
    expect(await next()).toMatchObject({ type: 'socket', id: 1 });
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    await expect(sentFirst).resolves.toEqual({ id: 1, receiverPid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, 250));
    // The first send's deadline passes 150 ms into this one: that must not end it.
    const second = await tcpPair();
    let settled = false;
    const sentSecond = sender.send(second.accepted).finally(() => (settled = true));
    sentSecond.catch(() => undefined);
    expect(await next()).toMatchObject({ type: 'socket', id: 2 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(settled).toBe(false);
    await expect(sentSecond).rejects.toEqual(expect.objectContaining({ code: 'ERR_HANDOFF_TIMEOUT' }));
    expect(await next()).toEqual({ type: 'abort', id: 2 });
    expect(second.accepted.destroyed).toBe(false);
    for (const pair of [first, second]) pair.close();
    await sender.close();
    raw.server.close();
  });

  it('version 2: acks the receiver wrote before it went away count when a later send finds it gone; what it never acknowledged comes back', async () => {
    const raw = await rawReceiver([1, 2]);
    // Answers gather unread for a second, as they do for 5 ms by default: the window the receiver dies in.
    const sender = await openSender(raw.endpoint, { ackReadDelay: 1000 });
    const { socket, next } = await raw.conn;
    const pairs = [await tcpPair(), await tcpPair(), await tcpPair()];
    const sent = [settled(sender.send(pairs[0].accepted)), settled(sender.send(pairs[1].accepted))];
    expect(await next()).toMatchObject({ type: 'socket', id: 1 });
    expect(await next()).toMatchObject({ type: 'socket', id: 2 });
    // Adopted on receipt: acked, then the receiver dies (its copies with it) before the sender reads the acks.
    await new Promise((resolve) => socket.write(encodeFrame({ type: 'ack', id: 1 }), resolve));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // This frame finds the channel gone (EPIPE). The ack of the first was in the channel: it counts.
    sent.push(settled(sender.send(pairs[2].accepted)));
    expect(await Promise.all(sent)).toEqual([{ id: 1, receiverPid: process.pid }, 'ERR_RECEIVER_GONE', 'ERR_RECEIVER_GONE']);
    // The first is the receiver's (this copy closed); the other two were given back.
    expect(pairs.map(({ accepted }) => accepted.destroyed)).toEqual([true, false, false]);
    for (const pair of pairs) pair.close();
    raw.server.close();
  });

  it('version 2: an ack counts when the receiver died with frames of ours unread (the read meets ECONNRESET before the ack)', async () => {
    const raw = rawUnixReceiver(path.join(dir, `reset-${Math.random().toString(36).slice(2)}.sock`));
    const opening = openSender(raw.listener.path, { ackReadDelay: 300 });
    const { link, reader } = await raw.accept();
    link.write(encodeFrame({ type: 'hello', role: 'receiver', versions: [1, 2], pid: process.pid, nonce: 'n', secret: false }));
    expect(await reader.next()).toMatchObject({ type: 'hello', role: 'sender', version: 2 });
    link.write(encodeFrame({ type: 'ready' }));
    const sender = await opening;
    const pairs = [await tcpPair(), await tcpPair()];
    const sent = [settled(sender.send(pairs[0].accepted))];
    const first = await reader.nextWithFds();
    expect(first?.message).toMatchObject({ type: 'socket', id: 1 });
    first?.fds.forEach((fd) => fs.closeSync(fd));
    link.deferReads(10_000); // from here on the receiver reads nothing
    link.write(encodeFrame({ type: 'ack', id: 1 }));
    sent.push(settled(sender.send(pairs[1].accepted)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Dies with the second socket frame unread: the kernel leaves ECONNRESET pending on the sender's end.
    link.destroy();
    expect(await Promise.all(sent)).toEqual([{ id: 1, receiverPid: process.pid }, 'ERR_RECEIVER_GONE']);
    expect(pairs.map(({ accepted }) => accepted.destroyed)).toEqual([true, false]);
    for (const pair of pairs) pair.close();
    raw.close();
  });

  it('version 2: an ack already waiting in the channel at the deadline counts, even if the event loop was too busy to read it', async () => {
    const raw = await rawReceiver([1, 2]);
    const sender = await openSender(raw.endpoint, { ackTimeout: 100 });
    const { socket, next } = await raw.conn;
    const { client, accepted } = await tcpPair();
    const sent = sender.send(accepted);
    expect(await next()).toMatchObject({ type: 'socket', id: 1 });
    socket.write(encodeFrame({ type: 'ack', id: 1 }));
    // Block this process past the deadline: the ack sits unread in the channel until the timer's drain.
    const until = Date.now() + 300;
    while (Date.now() < until);
    await expect(sent).resolves.toEqual({ id: 1, receiverPid: process.pid });
    client.destroy();
    await sender.close();
    raw.server.close();
  });
});
