/**
 * Upgrader, two generations in one process (the protocol does not care whose pid is at the other
 * end): who accepts when, what is closed at ready(), the coded errors of each state, the drain.
 * Across real processes and under load: test/cross-process/upgrader.test.ts.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Upgrader } from '../../src/upgrader';
import { describeOnLinuxOrWindows } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });
let serial = 0;
const uniqueName = () => `upgrader-unit-${process.pid}-${Date.now() % 100000}-${serial++}`;

/** Connects, reads what the server says first, and resolves it ('' if it closed silently). */
function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => (text += d));
    c.on('end', () => resolve(text));
    c.on('error', reject);
  });
}

/** Serves `tag` on every connection of `server`. */
const answer = (server: net.Server, tag: string) => server.on('connection', (s: net.Socket) => s.end(`${tag}\n`));

describeOnLinuxOrWindows('Upgrader (one process)', 'the upgrader runs over the hand-off channel, which Linux and Windows have', () => {
  const open: Upgrader[] = [];
  const start = async (options: Parameters<typeof Upgrader.start>[0]) => {
    const u = await Upgrader.start(options);
    open.push(u);
    return u;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((u) => u.close()));
  });

  it('hands over: the successor accepts only from ready(), keys it did not ask for are closed, the old one retires and drains', async () => {
    const name = uniqueName();
    const a = await start({ name, drainTimeout: 5000 });
    expect(a.inherited).toBe(false);
    expect(a.state).toBe('waiting');
    const webA = a.listen('web', {}, undefined);
    answer(webA, 'A');
    const adminA = a.listen('admin');
    answer(adminA, 'A-admin');
    // Not ready yet: no successor, no upgrade.
    await expect(a.upgrade()).rejects.toEqual(coded('ERR_NOT_READY'));
    await expect(Upgrader.start({ name })).rejects.toEqual(coded('ERR_NOT_READY'));
    await a.ready();
    expect(a.state).toBe('ready');
    const port = (webA.address() as net.AddressInfo).port;
    const adminPort = (adminA.address() as net.AddressInfo).port;

    const b = await start({ name });
    expect(b.inherited).toBe(true);
    // A third start while B takes over: the successor slot is B's.
    await expect(Upgrader.start({ name })).rejects.toEqual(coded('ERR_UPGRADE_IN_PROGRESS'));
    // A is busy with a successor: its own upgrade() says so.
    await expect(a.upgrade()).rejects.toEqual(coded('ERR_UPGRADE_IN_PROGRESS'));
    const webB = b.listen('web', { port: 1 }); // the inherited listener wins over the options
    answer(webB, 'B');
    expect((webB.address() as net.AddressInfo).port).toBe(port);
    expect(() => b.listen('web')).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    // B listens, but until its ready() A is the one accepting.
    for (let i = 0; i < 5; i++) expect(await ask(port)).toBe('A\n');

    const retired = new Promise<void>((resolve) => a.once('retire', resolve));
    const drained = new Promise<void>((resolve) => a.once('drained', resolve));
    await b.ready();
    await retired;
    await drained;
    expect(a.state).toBe('retired');
    expect(b.state).toBe('ready');
    for (let i = 0; i < 5; i++) expect(await ask(port)).toBe('B\n');
    // 'admin' was never asked for by B: closed there at ready(), and A closed its copy on retiring.
    await expect(ask(adminPort)).rejects.toEqual(coded('ECONNREFUSED'));
    // A retired generation refuses everything.
    await expect(a.upgrade()).rejects.toEqual(coded('ERR_RETIRED'));
    await expect(a.ready()).rejects.toEqual(coded('ERR_RETIRED'));
    expect(() => a.listen('other')).toThrow(coded('ERR_RETIRED'));

    // The name went with the service: the next generation takes over from B.
    const c = await start({ name });
    expect(c.inherited).toBe(true);
    answer(c.listen('web'), 'C');
    await c.ready();
    expect(await ask(port)).toBe('C\n');
    expect(b.state).toBe('retired');
  });

  it('drains: waits for open connections, then destroys what is left after drainTimeout', async () => {
    const name = uniqueName();
    const a = await start({ name, drainTimeout: 300 });
    const held: net.Socket[] = [];
    a.listen('web').on('connection', (s: net.Socket) => held.push(s)); // never answered, never closed
    await a.ready();
    const server = await start({ name });
    const client = net.connect((server.listen('web').address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    // Still A's until B is ready: the connection is accepted by A.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.connections).toBe(1);
    const clientClosed = new Promise((resolve) => client.once('close', resolve));
    client.on('error', () => undefined);
    const started = Date.now();
    const drained = new Promise<void>((resolve) => a.once('drained', resolve));
    await server.ready();
    await drained;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await clientClosed;
    expect(held[0].destroyed).toBe(true);
    expect(a.connections).toBe(0);
  });

  it('an unwritable pid file fails ready() with ERR_PID_FILE before anything changed', async () => {
    const name = uniqueName();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upgrader-unit-'));
    try {
      const a = await start({ name, pidFile: path.join(dir, 'no-such-folder', 'x.pid') });
      await expect(a.ready()).rejects.toEqual(coded('ERR_PID_FILE'));
      expect(a.state).toBe('waiting');
      const good = await start({ name: uniqueName(), pidFile: path.join(dir, 'x.pid') });
      fs.writeFileSync(path.join(dir, 'x.pid'), 'stale 123');
      await good.ready();
      expect(fs.readFileSync(path.join(dir, 'x.pid'), 'utf8')).toBe(`${process.pid}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a successor that goes away before ready() costs nothing: the old generation serves on and can be upgraded again', async () => {
    const name = uniqueName();
    const a = await start({ name });
    const web = a.listen('web');
    answer(web, 'A');
    await a.ready();
    const port = (web.address() as net.AddressInfo).port;
    const b = await Upgrader.start({ name });
    b.listen('web');
    await b.close(); // gone before ready(): its copies are closed
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++) expect(await ask(port)).toBe('A\n');
    const c = await start({ name });
    expect(c.inherited).toBe(true);
    answer(c.listen('web'), 'C');
    await c.ready();
    expect(await ask(port)).toBe('C\n');
  });

  it('checks its arguments', async () => {
    await expect(Upgrader.start(undefined as never)).rejects.toEqual(coded('ERR_INVALID_ARG_TYPE'));
    await expect(Upgrader.start({ name: 'bad name' })).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
    const a = await start({ name: uniqueName() });
    expect(() => a.listen(3 as never)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    await a.ready();
    await expect(a.upgrade({ timeout: 0 })).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
  });
});
