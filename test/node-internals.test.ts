/** holdReading, takeReadableBuffer and resyncReading on real TCP connections (Node's stream and handle logic is the same on every platform). */
import * as net from 'node:net';
import { addressKeyOf, holdReading, resyncReading, takeReadableBuffer, tcpHandleOf } from '../src/node-internals';

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

/** What a failed hand-off does to a socket: hold, take the buffer, put it back, release, resync. */
function holdAndGiveBack(socket: net.Socket): Buffer {
  const release = holdReading(tcpHandleOf(socket)!);
  const buffered = takeReadableBuffer(socket);
  if (buffered.length > 0) socket.unshift(buffered);
  release();
  resyncReading(socket);
  return buffered;
}

describe('give-back (takeReadableBuffer, resyncReading)', () => {
  it('a pauseOnConnect socket given back stays paused, and reads again on resume()', async () => {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const acceptedP = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const accepted = await acceptedP;
    try {
      client.write('hello');
      await tick(50);
      expect(holdAndGiveBack(accepted).length).toBe(0);
      expect(accepted.isPaused()).toBe(true);
      const got = new Promise<string>((resolve) => accepted.once('data', (d) => resolve(String(d))));
      accepted.resume();
      expect(await got).toBe('hello');
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it('takes buffered bytes without emitting them, and a given-back socket yields each byte once', async () => {
    const { server, client, accepted } = await connectedPair();
    try {
      const seen: string[] = [];
      accepted.on('data', (d) => seen.push(String(d)));
      accepted.pause();
      client.write('one-two');
      await tick(100); // Node read ahead into the paused stream
      expect(accepted.readableLength).toBe(7);
      const release = holdReading(tcpHandleOf(accepted)!);
      expect(takeReadableBuffer(accepted).toString()).toBe('one-two');
      expect(seen).toEqual([]);
      accepted.unshift(Buffer.from('one-two'));
      release();
      resyncReading(accepted);
      client.write('-three');
      accepted.resume();
      await tick(100);
      expect(seen.join('')).toBe('one-two-three');
    } finally {
      client.destroy();
      accepted.destroy();
      server.close();
    }
  });

  it('a flowing socket given back keeps flowing', async () => {
    const { server, client, accepted } = await connectedPair();
    try {
      const seen: string[] = [];
      accepted.on('data', (d) => seen.push(String(d)));
      client.write('a');
      await tick(50);
      holdAndGiveBack(accepted);
      expect(accepted.isPaused()).toBe(false);
      client.write('b');
      await tick(100);
      expect(seen.join('')).toBe('ab');
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

describe('runQueuedTicks', () => {
  type Internals = typeof import('../src/node-internals');
  const withTickCallback = (value: unknown, run: (internals: Internals) => void): void => {
    const proc = process as unknown as { _tickCallback?: unknown };
    const own = Object.getOwnPropertyDescriptor(proc, '_tickCallback');
    proc._tickCallback = value;
    try {
      jest.isolateModules(() => run(require('../src/node-internals') as Internals));
    } finally {
      if (own) Object.defineProperty(proc, '_tickCallback', own);
      else delete proc._tickCallback;
    }
  };

  it("calls Node's own drain of the nextTick queue and the microtasks, on process", () => {
    const drain = jest.fn();
    withTickCallback(drain, ({ runQueuedTicks }) => runQueuedTicks());
    expect(drain).toHaveBeenCalledTimes(1);
    expect(drain.mock.contexts[0]).toBe(process);
  });

  it('queues an immediate instead on a Node without process._tickCallback (its callback scope runs them)', () => {
    const immediate = jest.spyOn(global, 'setImmediate');
    try {
      withTickCallback(undefined, ({ runQueuedTicks }) => runQueuedTicks());
      expect(immediate).toHaveBeenCalledTimes(1);
    } finally {
      immediate.mockRestore();
    }
  });

  it('really runs what is queued when called where Node would not (the drain is the real one here)', () => {
    const ran: string[] = [];
    process.nextTick(() => ran.push('tick'));
    jest.requireActual<Internals>('../src/node-internals').runQueuedTicks();
    expect(ran).toEqual(['tick']);
  });
});
