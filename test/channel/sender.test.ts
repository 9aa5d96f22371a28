/**
 * openSender's argument checks, a channel nobody listens on, and send()'s options over a real
 * channel in this process (the hand-offs between processes run in test/cross-process).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openReceiver, type SocketReceiver } from '../../src/channel/receiver';
import { openSender, type SocketSender } from '../../src/channel/sender';
import { readAll, tcpPair } from '../support/channel-peers';
import { describeOnLinux, itElsewhere, itOnLinux } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });

describe('openSender', () => {
  it.each([
    [undefined, 'ERR_INVALID_ARG_TYPE'],
    ['', 'ERR_INVALID_ARG_VALUE'],
  ])('rejects the name %p with %s', async (name, code) => {
    await expect(openSender(name as unknown as string)).rejects.toEqual(coded(code));
  });

  it.each([
    [{ ackTimeout: 0 }, /options\.ackTimeout/],
    [{ connectTimeout: -1 }, /options\.connectTimeout/],
    [{ secret: '' }, /options\.secret/],
    [{ maxFrameSize: 10 }, /options\.maxFrameSize/],
    [{ ackReadDelay: -1 }, /options\.ackReadDelay/],
    [{ ackReadDelay: 2.5 }, /options\.ackReadDelay/],
    [{ ackReadDelay: 1001 }, /options\.ackReadDelay/],
    [{ ackReadDelay: '5' as unknown as number }, /options\.ackReadDelay/],
  ])('rejects %p with ERR_INVALID_ARG_VALUE naming the option', async (options, message) => {
    await expect(openSender('x', options)).rejects.toEqual(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(message) }));
  });

  itOnLinux('rejects with ERR_CHANNEL_UNAVAILABLE when no receiver listens', 'Unix socket files', async () => {
    await expect(openSender(`nobody-listens-${process.pid}`)).rejects.toEqual(coded('ERR_CHANNEL_UNAVAILABLE'));
    await expect(openSender('/nonexistent-dir/chan.sock')).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_CHANNEL_UNAVAILABLE', cause: expect.objectContaining({ code: 'ENOENT', syscall: 'connect' }) }),
    );
  });

  itOnLinux('rejects names that are neither simple nor absolute paths', 'Unix socket paths', async () => {
    await expect(openSender('../escape')).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
    await expect(openSender(`/tmp/${'x'.repeat(120)}`)).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
  });

  itElsewhere('says what to use instead', 'Linux and Windows have the channel', async () => {
    await expect(openSender('x')).rejects.toEqual(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/SCM_RIGHTS/) }));
  });
});

describeOnLinux('send() options', 'an in-process channel (Unix socket); the Windows channel is tested across processes', () => {
  let dir: string;
  let receiver: SocketReceiver;
  let sender: SocketSender;
  const metas: unknown[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sender-test-'));
    receiver = await openReceiver(path.join(dir, 'chan.sock'), (socket, info) => {
      metas.push(info.meta);
      (socket as net.Socket).end('adopted\n');
    });
    sender = await openSender(receiver.endpoint);
  });

  afterAll(async () => {
    await sender.close();
    await receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An accepted connection (paused) to hand off, and all its client reads until the end. */
  async function connection(): Promise<{ socket: net.Socket; reply: Promise<string> }> {
    const { client, accepted } = await tcpPair();
    return { socket: accepted, reply: readAll(client) };
  }

  it('gives the receiver meta as JSON carries it', async () => {
    const values: unknown[] = [
      { route: '/chat', list: [1, null, 'é ☃ \u0000 "quoted" \\'], nested: { deep: [{}] }, dropped: undefined },
      null,
      'text',
      0,
      [1, 'x', undefined],
      false,
      new Date(0),
    ];
    for (const meta of values) {
      const { socket, reply } = await connection();
      await sender.send(socket, { meta });
      expect(await reply).toBe('adopted\n');
    }
    // No meta: the receiver's info.meta is undefined, and the frame has no meta member.
    const { socket, reply } = await connection();
    await sender.send(socket);
    expect(await reply).toBe('adopted\n');
    expect(metas).toEqual([...values.map((v) => JSON.parse(JSON.stringify(v))), undefined]);
  });

  it('refuses bad options with a coded error before touching the socket, which can still be sent', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const { socket, reply } = await connection();
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ meta: 1n }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ meta: { big: 1n } }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ meta: cycle }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ meta: () => 1 }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ meta: Symbol('s') }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ meta: { toJSON: () => undefined } }, 'ERR_INVALID_ARG_VALUE', /options\.meta/],
      [{ head: 5 }, 'ERR_INVALID_ARG_TYPE', /options\.head/],
      [{ keepOpen: 'yes' }, 'ERR_INVALID_ARG_TYPE', /options\.keepOpen/],
    ];
    for (const [options, code, message] of bad) {
      await expect(sender.send(socket, options)).rejects.toEqual(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    }
    expect(sender.pending).toBe(0);
    expect(socket.destroyed).toBe(false);
    await sender.send(socket, { meta: 'after' });
    expect(await reply).toBe('adopted\n');
    expect(metas[metas.length - 1]).toBe('after');
  });
});
