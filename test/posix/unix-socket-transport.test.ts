/**
 * The Linux transport of the channel (src/posix/unix-socket-transport.ts) in one process: a real
 * hand-off, and peers that attach descriptors where they do not belong. Every descriptor that
 * cannot be adopted is closed: the process's descriptor count ends where it started.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeFrame, FrameDecoder } from '../../src/channel/frame-codec';
import { openReceiver, type SocketReceiver } from '../../src/channel/receiver';
import { openSender } from '../../src/channel/sender';
import { connectUnix } from '../../src/posix/unix-connect';
import type { UnixLink } from '../../src/posix/unix-link';
import { openDescriptors, sendWithDescriptors } from '../support/send-descriptors';
import { describeOnLinux } from '../support/platform';

/** A raw peer: does the handshake, then writes what the test says and collects the answers. */
async function rawPeer(endpoint: string) {
  const link: UnixLink = await connectUnix(endpoint, 1000);
  const decoder = new FrameDecoder();
  const got: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  link.on('data', (chunk: Buffer) => {
    got.push(...decoder.push(chunk));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<void>((resolve) => link.on('close', () => resolve()));
  const next = async (): Promise<Record<string, unknown> | undefined> => {
    while (got.length === 0) {
      const more = new Promise<void>((resolve) => waiters.push(resolve));
      if ((await Promise.race([more.then(() => 'data'), closed.then(() => 'closed')])) === 'closed' && got.length === 0) return undefined;
    }
    return got.shift();
  };
  await next(); // receiver hello
  link.write(encodeFrame({ type: 'hello', role: 'sender', version: 1, pid: process.pid }));
  expect(await next()).toEqual({ type: 'ready' });
  return { link, next, closed };
}

const socketFrame = (id: number) => encodeFrame({ type: 'socket', id, kind: 'socket' });

describeOnLinux('unix socket transport', 'Unix sockets with SCM_RIGHTS', () => {
  let dir: string;
  let receiver: SocketReceiver;
  const adopted: net.Socket[] = [];
  const clientErrors: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transport-test-'));
    receiver = await openReceiver(path.join(dir, 'chan.sock'), (socket) => {
      if (!(socket instanceof net.Socket)) throw new Error('only connections are sent here');
      adopted.push(socket);
      // Answers with the first 9 bytes it reads: the sender's head ('head:'), then the client's 'body'.
      let text = '';
      socket.on('data', (d) => {
        text += d;
        if (text.length >= 9) socket.end(`adopted ${text}\n`);
      });
    });
    receiver.on('clientError', (err: { code: string }) => clientErrors.push(err.code));
  });

  afterAll(async () => {
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('closes every descriptor that arrives where it does not belong, and answers with a code', async () => {
    const before = openDescriptors();
    const devNull = () => fs.openSync('/dev/null', 'r');

    // A real TCP socket, declined by the receiver's accept filter.
    const declining = await openReceiver(path.join(dir, 'declines.sock'), () => undefined, { accept: () => false });
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    let peer = await rawPeer(declining.endpoint);
    expect(sendWithDescriptors(peer.link.fd, socketFrame(1), [(tcp as unknown as { _handle: { fd: number } })._handle.fd])).toBeGreaterThan(0);
    expect(await peer.next()).toMatchObject({ type: 'nack', id: 1, code: 'ERR_HANDOFF_DECLINED' });
    peer.link.destroy();
    await peer.closed;
    await declining.close();
    tcp.close();

    // A regular file where a socket should be.
    peer = await rawPeer(receiver.endpoint);
    let file = devNull();
    expect(sendWithDescriptors(peer.link.fd, socketFrame(1), [file])).toBeGreaterThan(0);
    fs.closeSync(file);
    expect(await peer.next()).toMatchObject({ type: 'nack', id: 1, code: 'ERR_UNSUPPORTED_SOCKET_TYPE' });

    // A Unix socket (not IPv4/IPv6), and two descriptors on one socket frame.
    const other = await connectUnix(receiver.endpoint, 1000);
    expect(sendWithDescriptors(peer.link.fd, socketFrame(2), [other.fd])).toBeGreaterThan(0);
    expect(await peer.next()).toMatchObject({ type: 'nack', id: 2, code: 'ERR_UNSUPPORTED_SOCKET_TYPE' });
    file = devNull();
    expect(sendWithDescriptors(peer.link.fd, socketFrame(3), [file, file])).toBeGreaterThan(0);
    fs.closeSync(file);
    expect(await peer.next()).toMatchObject({ type: 'nack', id: 3, code: 'ERR_NO_DESCRIPTOR' });
    other.destroy();

    // A descriptor on a frame that is not a socket frame: the connection is refused.
    file = devNull();
    expect(sendWithDescriptors(peer.link.fd, encodeFrame({ type: 'commit', id: 9 }), [file])).toBeGreaterThan(0);
    peer.link.write(encodeFrame({ type: 'abort', id: 9 }));
    fs.closeSync(file);
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'ERR_MALFORMED_FRAME' });
    await peer.closed;

    // More descriptors than one message has room for: MSG_CTRUNC.
    peer = await rawPeer(receiver.endpoint);
    const many = Array.from({ length: 12 }, devNull);
    expect(sendWithDescriptors(peer.link.fd, socketFrame(4), many)).toBeGreaterThan(0);
    many.forEach((f) => fs.closeSync(f));
    expect(await peer.next()).toMatchObject({ type: 'error', code: 'ERR_DESCRIPTORS_TRUNCATED' });
    await peer.closed;

    await waitFor(() => receiver.connections === 0);
    expect(clientErrors).toEqual(['ERR_MALFORMED_FRAME', 'ERR_DESCRIPTORS_TRUNCATED']);
    expect(openDescriptors()).toBe(before);
  });

  it('hands a TCP connection over, head first, and it keeps working', async () => {
    const sender = await openSender(receiver.endpoint);
    const server = net.createServer((socket) => void sender.send(socket, { head: 'head:' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => client.write('body'));
    const text = await new Promise<string>((resolve) => {
      let out = '';
      client.on('data', (d) => (out += d));
      client.on('end', () => resolve(out));
    });
    expect(text).toBe('adopted head:body\n');
    expect(adopted).toHaveLength(1);
    await sender.close();
    server.close();
  });

  it('refuses what exportSocket() refuses, with the same codes as on Windows, and keeps the channel open', async () => {
    const sender = await openSender(receiver.endpoint);
    const connecting = net.connect(9, '127.0.0.1');
    connecting.on('error', () => undefined);
    await expect(sender.send(connecting)).rejects.toEqual(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    await expect(sender.send(net.createServer())).rejects.toEqual(expect.objectContaining({ code: 'ERR_NOT_LISTENING' }));
    connecting.destroy();
    await expect(sender.send(connecting)).rejects.toEqual(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    expect(sender.pending).toBe(0);
    await sender.close();
  });

  it('replaces the socket file of a receiver that died, and serves on it', async () => {
    const stale = path.join(dir, 'stale.sock');
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(died.signal).toBe('SIGKILL');
    expect(fs.statSync(stale).isSocket()).toBe(true);
    const second = await openReceiver(stale, () => undefined);
    const sender = await openSender(stale);
    expect(sender.receiverPid).toBe(process.pid);
    await sender.close();
    await second.close();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}
