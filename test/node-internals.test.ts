/** holdReading on a real TCP connection (Node's handle logic is the same on every platform). */
import * as net from 'node:net';
import { addressKeyOf, holdReading, tcpHandleOf } from '../src/node-internals';

async function connectedPair(): Promise<{ server: net.Server; client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  return { server, client, accepted: await accepted };
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('holdReading', () => {
  it('keeps Node from reading again, even through read() and resume(), until released', async () => {
    const { server, client, accepted } = await connectedPair();
    try {
      const got: Buffer[] = [];
      client.write('before');
      await new Promise((resolve) => accepted.once('data', (c) => resolve(got.push(c))));
      accepted.pause();
      const release = holdReading(tcpHandleOf(accepted)!);
      client.write('after the hold');
      await tick(100);
      accepted.read();
      accepted.on('data', (c) => got.push(c));
      accepted.resume();
      await tick(200);
      expect(Buffer.concat(got).toString()).toBe('before');
      release();
      await tick(200);
      expect(Buffer.concat(got).toString()).toBe('beforeafter the hold');
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it('restores a socket that was not reading to not reading', async () => {
    const { server, client, accepted } = await connectedPair();
    try {
      const handle = tcpHandleOf(accepted)!;
      accepted.pause();
      handle.readStop!();
      handle.reading = false;
      holdReading(handle)();
      expect(handle.reading).toBe(false);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });
});

describe('addressKeyOf', () => {
  it('tells a connected socket, its peer and the listener apart', async () => {
    const { server, client, accepted } = await connectedPair();
    try {
      const keys = [accepted, client].map((s) => addressKeyOf(tcpHandleOf(s)!));
      const listenerKey = addressKeyOf(tcpHandleOf(server)!);
      expect(new Set([...keys, listenerKey]).size).toBe(3);
      expect(listenerKey).toMatch(/listening-or-unconnected$/);
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it('has no TCP handle for a destroyed socket', async () => {
    const { server, client, accepted } = await connectedPair();
    accepted.destroy();
    client.destroy();
    server.close();
    expect(tcpHandleOf(accepted)).toBeUndefined();
  });
});
