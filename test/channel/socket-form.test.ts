/**
 * The mapping form of docs/protocol.md, on the Node side and on every platform: which form a
 * sender picks from the receiver's hello, the syntax of `mapping`, and the release rule (the
 * transport's settle() runs exactly once, whichever way a hand-off ends). The Windows transport
 * itself is tested against a C peer making PHP's calls in test/cross-process/interop.test.ts.
 */
import * as net from 'node:net';
import { encodeFrame } from '../../src/channel/frame-codec';
import { FrameConnection } from '../../src/channel/frame-connection';
import { checkSocketMessage } from '../../src/channel/messages';
import { SocketSender } from '../../src/channel/sender';
import { socketFormOf } from '../../src/channel/socket-form';
import type { HandoffTransport, SocketForm } from '../../src/channel/transport';
import { rawHandoffOf } from '../../src/raw-handoff';
import { FakeLink } from '../support/fake-link';

const hello = (extra: object = {}) => ({ type: 'hello' as const, role: 'receiver' as const, versions: [1], pid: 4321, nonce: 'n', secret: false, ...extra });

/** A sender over a fake link and a fake transport that records the form asked for and counts settle() calls. */
function setup(receiverHello: object, ackTimeout = 10_000) {
  const link = new FakeLink();
  const connection = new FrameConnection(link, 1024 * 1024);
  const forms: (SocketForm | undefined)[] = [];
  const counts = { settled: 0, released: 0 };
  const fields = (form?: SocketForm) => (form === 'mapping' ? { mapping: `socket_handoff_wsa_test_${forms.length}` } : { token: 'dG9rZW4=' });
  const transport = {
    deliverOnReceipt: false,
    attach: (_target: unknown, _pid: number, form?: SocketForm) => {
      forms.push(form);
      return { fields: fields(form), release: () => counts.released++, settle: () => counts.settled++ };
    },
    attachRaw: (_raw: bigint, _pid: number, form?: SocketForm) => {
      forms.push(form);
      return { fields: fields(form), settle: () => counts.settled++ };
    },
  } as unknown as HandoffTransport;
  const sender = SocketSender.create(connection, transport, hello(receiverHello) as never, { ackTimeout, ackReadDelay: 0 }, 1);
  sender.on('error', () => undefined);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const frames = (): any[] => link.written.map((b) => JSON.parse(b.subarray(4).toString('utf8')));
  const answer = (msg: object) => link.emit('data', encodeFrame(msg));
  return { link, sender, forms, counts, frames, answer };
}

/** A connected pair on loopback: `socket` is the accepted end, paused as a front would hold it. */
async function pair(): Promise<{ socket: net.Socket; client: net.Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const socket = await accepted;
  return { socket, client, close: () => (socket.destroy(), client.destroy(), server.close()) };
}

describe('socketFormOf: the form a sender uses with a receiver', () => {
  it.each([
    [{ socketForm: 'mapping' }, 'mapping'],
    [{}, 'token'],
    [{ socketForm: 'token' }, 'token'],
    [{ socketForm: 'Mapping' }, 'token'],
    [{ socketForm: ['mapping'] }, 'token'],
    [{ socketForm: null }, 'token'],
  ])('%p gives %p (anything but "mapping" means tokens, as for a receiver that never asked)', (extra, form) => {
    expect(socketFormOf(hello(extra))).toBe(form);
  });
});

describe('checkSocketMessage: `mapping`', () => {
  const socket = (extra: object) => ({ type: 'socket', id: 1, kind: 'socket', ...extra });
  it.each([[5], [null], [['php_wsa_for_0']], [{}]])('mapping %p is not a string: ERR_MALFORMED_FRAME', (mapping) => {
    expect(() => checkSocketMessage(socket({ mapping }))).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_FRAME', message: 'socket.mapping must be a string' }));
  });

  it('a string mapping passes the syntax check, with or without a token (exactly one is the Windows transport\'s check)', () => {
    expect(checkSocketMessage(socket({ mapping: 'php_wsa_for_0' })).mapping).toBe('php_wsa_for_0');
    expect(checkSocketMessage(socket({ mapping: '', token: 'x' })).mapping).toBe('');
  });
});

describe('SocketSender: the form asked for, and the release rule', () => {
  it('asks the transport for the mapping form when the receiver\'s hello says socketForm "mapping", for tokens otherwise', async () => {
    for (const [extra, form] of [[{ socketForm: 'mapping' }, 'mapping'], [{}, 'token']] as const) {
      const { sender, forms, frames, answer } = setup(extra);
      const sent = rawHandoffOf(sender)!.send(7n, false, () => undefined);
      expect(forms).toEqual([form]);
      const [frame] = frames();
      expect(frame).toMatchObject({ type: 'socket', id: 1, kind: 'socket' });
      expect(form === 'mapping' ? [frame.mapping, frame.token] : [frame.token, frame.mapping]).toEqual([expect.any(String), undefined]);
      answer({ type: 'ack', id: 1 });
      await expect(sent).resolves.toEqual({ id: 1, receiverPid: 4321 });
      await sender.close();
    }
  });

  it('settles once on ack (after writing commit), before the socket is let go', async () => {
    const { sender, counts, frames, answer } = setup({ socketForm: 'mapping' });
    const order: string[] = [];
    const sent = rawHandoffOf(sender)!.send(7n, false, () => order.push(`letGo (settled ${counts.settled})`));
    expect(counts.settled).toBe(0); // the receiver has not read the mapping yet
    answer({ type: 'ack', id: 1 });
    await sent;
    expect(frames().map((f) => f.type)).toEqual(['socket', 'commit']);
    expect([counts.settled, order]).toEqual([1, ['letGo (settled 1)']]);
    await sender.close();
    expect(counts.settled).toBe(1);
  });

  it('settles once on nack, on a timeout (after writing abort), and when the channel closes, giving the socket back each time', async () => {
    const nack = setup({ socketForm: 'mapping' });
    const refused = rawHandoffOf(nack.sender)!.send(7n, false, () => undefined);
    nack.answer({ type: 'nack', id: 1, code: 'ERR_INVALID_MAPPING', message: 'gone' });
    await expect(refused).rejects.toEqual(expect.objectContaining({ code: 'ERR_HANDOFF_REFUSED', reason: 'ERR_INVALID_MAPPING' }));
    expect(nack.counts.settled).toBe(1);
    nack.answer({ type: 'ack', id: 1 }); // a late answer changes nothing
    expect(nack.counts.settled).toBe(1);
    await nack.sender.close();

    const timeout = setup({ socketForm: 'mapping' }, 30);
    await expect(rawHandoffOf(timeout.sender)!.send(7n, false, () => undefined)).rejects.toEqual(expect.objectContaining({ code: 'ERR_HANDOFF_TIMEOUT' }));
    expect(timeout.frames().map((f) => f.type)).toEqual(['socket', 'abort']);
    expect(timeout.counts.settled).toBe(1);
    await timeout.sender.close();
    expect(timeout.counts.settled).toBe(1);

    const closed = setup({ socketForm: 'mapping' });
    const pending = rawHandoffOf(closed.sender)!.send(7n, false, () => undefined);
    closed.link.destroy(); // the receiver went away
    await expect(pending).rejects.toEqual(expect.objectContaining({ code: 'ERR_RECEIVER_GONE' }));
    expect(closed.counts.settled).toBe(1);
  });

  it('does the same for a net.Socket: settled once with the hold released on give-back, once on success', async () => {
    const back = setup({ socketForm: 'mapping' });
    const a = await pair();
    const refused = back.sender.send(a.socket);
    back.answer({ type: 'nack', id: 1, code: 'ERR_HANDOFF_DECLINED', message: 'no' });
    await expect(refused).rejects.toEqual(expect.objectContaining({ reason: 'ERR_HANDOFF_DECLINED' }));
    expect(back.counts).toEqual({ settled: 1, released: 1 });
    expect(a.socket.destroyed).toBe(false);
    a.close();
    await back.sender.close();

    const ok = setup({ socketForm: 'mapping' });
    const b = await pair();
    const sent = ok.sender.send(b.socket);
    ok.answer({ type: 'ack', id: 1 });
    await sent;
    expect(ok.counts).toEqual({ settled: 1, released: 0 });
    expect(b.socket.destroyed).toBe(true);
    b.close();
    await ok.sender.close();
  });
});
