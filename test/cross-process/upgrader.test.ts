/**
 * Upgrader (src/upgrader/) across real processes, under clients that never stop: loops that open a
 * new connection per request, and keep-alive connections that send a request every 100 ms. Every
 * run must show 0 refused, 0 reset and 0 unanswered, and every retired generation must drain (its
 * keep-alive connections are finished by it, with `Connection: close`; quiet long-lived
 * connections are closed cleanly once its drainTimeout has passed, while later upgrades go on). On Windows (Wine) and
 * natively on Linux. The fixture is fixtures/upgrader.js (orchestrator and clients) with
 * fixtures/upgrader-generation.js (one generation of the service).
 *
 * On Linux, a generation is also started the way systemd starts one: listeners at fd 3 and 4 with
 * LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, and NOTIFY_SOCKET pointing at a datagram socket read here.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHANNEL_RUNTIMES, FIXTURES, runFixture } from './fixture-runner';
import { describeOnLinux } from '../support/platform';

interface Run {
  what: string;
  requests: number;
  answered: number;
  refused: number;
  reset: number;
  unanswered: number;
  failures: unknown[];
  byPid: Record<string, number>;
  keepAlive: { connections: number; finishedByGeneration: number; closedIdle: number; requests: number };
  longLived: { connections: number; closedCleanly: number; failed: number };
}
interface Result {
  error?: unknown;
  runs: Run[];
  checks: { ok: boolean; what: string }[];
  drains: { pid: number; retired: boolean; drained: boolean }[];
  overlaps: number;
  generations: { pid: number; how: string }[];
}

/** The counts of a run, as the test reports them on failure. */
const counts = (r: Run) => ({ what: r.what, refused: r.refused, reset: r.reset, unanswered: r.unanswered, failures: r.failures });

function expectNoLoss(r: Result): void {
  expect(r.error).toBeUndefined();
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  for (const run of r.runs) {
    expect(counts(run)).toEqual({ what: run.what, refused: 0, reset: 0, unanswered: 0, failures: [] });
    expect(run.answered).toBe(run.requests);
    expect(run.longLived.failed).toBe(0);
  }
}

describe.each(CHANNEL_RUNTIMES)('Upgrader, $label', ({ line }) => {
  it('upgrade(): a crash before ready(), one never ready, two at once, then five back to back; nothing lost', async () => {
    const { status, result: r } = await runFixture<Result>('upgrader.js', ['upgrades'], line);
    expectNoLoss(r);
    expect(status).toBe(0);
    const [failed, five] = r.runs;
    expect(failed.requests).toBeGreaterThan(200);
    expect(five.requests).toBeGreaterThan(500);
    // Six generations served; each of the five retired ones drained, its keep-alive clients finished by it.
    expect(r.generations.map((g) => g.how)).toEqual(['first', 'upgrade()', 'upgrade()', 'upgrade()', 'upgrade()', 'upgrade()']);
    for (const g of r.generations) expect(five.byPid[g.pid] ?? r.runs[0].byPid[g.pid]).toBeGreaterThan(0);
    expect(r.drains).toHaveLength(5);
    expect(r.drains.every((d) => d.retired && d.drained)).toBe(true);
    expect(five.keepAlive.finishedByGeneration).toBe(five.keepAlive.connections);
    expect(five.keepAlive.requests).toBeGreaterThan(50);
    // Quiet long-lived connections keep a retired generation draining for its whole drainTimeout
    // (6 s), then it closes them cleanly; meanwhile the next upgrades go on: drains overlap.
    expect(r.runs.reduce((n, run) => n + run.longLived.closedCleanly, 0)).toBeGreaterThanOrEqual(2);
    expect(r.overlaps).toBeGreaterThanOrEqual(1);
  });

  it('a successor from outside that never calls ready(), a start racing it, then one from outside; nothing lost', async () => {
    const { status, result: r } = await runFixture<Result>('upgrader.js', ['outside'], line);
    expectNoLoss(r);
    expect(status).toBe(0);
    expect(r.generations.map((g) => g.how)).toEqual(['first', 'outside']);
    expect(r.drains).toEqual([expect.objectContaining({ retired: true, drained: true })]);
    const outside = r.runs[1];
    expect(outside.keepAlive.finishedByGeneration).toBe(outside.keepAlive.connections);
  });

  it('a predecessor that dies in the middle of handing over: the successor keeps what it got, nothing is refused', async () => {
    const { status, result: r } = await runFixture<Result>('upgrader.js', ['predecessor-dies'], line);
    expect(r.error).toBeUndefined();
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(status).toBe(0);
    const [death] = r.runs;
    // The listener never closed: no connection is refused. Requests the dying process had
    // accepted die with it (at most one per client, 14); that is the crash, not the hand-over.
    expect(death.refused).toBe(0);
    expect(death.reset + death.unanswered).toBeLessThanOrEqual(14);
    expect(Object.keys(death.byPid)).toHaveLength(2);
  });
});

/** A datagram socket bound at `address` (a path, or '@name' for the abstract namespace), read with recv(). */
function datagramReceiver(address: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi');
  const libc = koffi.load('libc.so.6');
  const socket = libc.func('int socket(int, int, int)');
  const bind = libc.func('int bind(int, const uint8_t *, uint32_t)');
  const recv = libc.func('intptr_t recv(int, _Out_ uint8_t *, size_t, int)');
  const close = libc.func('int close(int)');
  const fd = socket(1 /* AF_UNIX */, 2 /* SOCK_DGRAM */, 0);
  const abstract = address.startsWith('@');
  const bytes = Buffer.from(abstract ? `\0${address.slice(1)}` : address);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(1, 0);
  bytes.copy(addr, 2);
  if (bind(fd, addr, 2 + bytes.length + (abstract ? 0 : 1)) !== 0) throw new Error(`bind ${address} failed`);
  const buf = Buffer.alloc(4096);
  return {
    /** Waits for the next datagram (polling with MSG_DONTWAIT). */
    async next(timeoutMs = 30000): Promise<string> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const n = Number(recv(fd, buf, buf.length, 0x40 /* MSG_DONTWAIT */));
        if (n >= 0) return buf.subarray(0, n).toString('utf8');
        if (Date.now() > until) throw new Error(`no datagram on ${address} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => close(fd),
  };
}

/** A listening TCP socket that nobody accepts on, as systemd holds one for its service: [fd, port]. */
function systemdStyleListener(): { fd: number; port: number; close: () => void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { platform } = require('../../src/platform') as typeof import('../../src/platform');
  const backend = platform();
  const socket = backend.listenSocket({ host: '127.0.0.1', port: 0, backlog: 511 });
  return { fd: Number(socket), port: (backend.localAddress(socket) as net.AddressInfo).port, close: () => backend.closeSocket(socket) };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describeOnLinux('Upgrader under systemd', 'systemd socket activation and sd_notify', () => {
  it.each(['path', 'abstract'])('takes fd 3 and 4 by LISTEN_FDNAMES and tells NOTIFY_SOCKET (%s) MAINPID and READY=1, then again after an upgrade', async (kind) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upgrader-systemd-'));
    const notifyAddress = kind === 'path' ? path.join(dir, 'notify') : `@socket-handoff-test-notify-${process.pid}-${Date.now()}`;
    const notify = datagramReceiver(notifyAddress);
    const web = systemdStyleListener();
    const admin = systemdStyleListener();
    const messages: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    const ctl = net.createServer((conn) => {
      let buffered = '';
      conn.on('data', (d) => {
        buffered += d;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          messages.push(JSON.parse(buffered.slice(0, nl)));
          buffered = buffered.slice(nl + 1);
          for (const w of waiters.splice(0)) w();
        }
      });
      conn.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => ctl.listen(0, '127.0.0.1', resolve));
    const conns = new Map<number, net.Socket>();
    ctl.on('connection', (c) => c.once('data', (d) => conns.set(JSON.parse(String(d).split('\n')[0]).pid, c)));
    const waitFor = async (test: (m: Record<string, unknown>) => boolean) => {
      for (;;) {
        const found = messages.find(test);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    const pids: number[] = [];
    try {
      // As systemd does it: the listeners at fd 3 and 4 and LISTEN_PID naming the service's own pid
      // (the shell's $$, kept by exec).
      const child = spawn('sh', ['-c', `LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:admin exec "${process.execPath}" "${path.join(FIXTURES, 'upgrader-generation.js')}"`], {
        stdio: ['ignore', 'inherit', 'inherit', web.fd, admin.fd],
        env: { ...process.env, UPG_NAME: `upg-systemd-${kind}-${process.pid}`, UPG_CTL_PORT: String((ctl.address() as net.AddressInfo).port), NOTIFY_SOCKET: notifyAddress, UPG_DRAIN_TIMEOUT: '2000' },
      });
      pids.push(child.pid as number);
      const ready = await waitFor((m) => m.ready !== undefined && m.pid === child.pid);
      expect(ready).toMatchObject({ port: web.port, adminPort: admin.port, warnings: [] });
      expect(await notify.next()).toBe(`MAINPID=${child.pid}\nREADY=1\n`);
      expect(await get(web.port)).toBe(`gen ${child.pid}\n`);

      // ExecReload=/bin/kill -HUP $MAINPID would start this: the next generation takes over from the
      // first (not from systemd: LISTEN_* were removed from its environment) and tells systemd its pid.
      conns.get(child.pid as number)?.write(`${JSON.stringify({ cmd: 'upgrade', mode: 'normal' })}\n`);
      const upgraded = (await waitFor((m) => m.upgraded !== undefined || m.upgradeFailed !== undefined)) as { upgraded: number };
      expect(upgraded.upgraded).toEqual(expect.any(Number));
      pids.push(upgraded.upgraded);
      const started = await waitFor((m) => m.started !== undefined && m.pid === upgraded.upgraded);
      expect(started.inherited).toBe(true);
      expect(await notify.next()).toBe(`MAINPID=${upgraded.upgraded}\nREADY=1\n`);
      expect(await get(web.port)).toBe(`gen ${upgraded.upgraded}\n`);
      await waitFor((m) => m.drained !== undefined && m.pid === child.pid);
      conns.get(upgraded.upgraded)?.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
      await waitFor((m) => m.stopped !== undefined);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid);
        } catch {
          // exited
        }
      }
      ctl.close();
      notify.close();
      web.close();
      admin.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeOnLinux('Upgrader name held by another user', 'another uid is checked with SO_PEERCRED and the runtime folder', () => {
  const NOBODY = 65534;
  it('refuses to take over a name whose holder runs as another user: ERR_FOREIGN_UID', async () => {
    // Names live in per-user runtime folders, so two users meet only on an absolute path in a shared folder.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'upgrader-foreign-'));
    fs.chmodSync(root, 0o755);
    const pkg = path.join(root, 'pkg');
    fs.cpSync(path.join(__dirname, '..', '..', 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'socket-handoff', main: 'dist/index.js' }));
    for (const dep of ['koffi', `@koromix/koffi-linux-${process.arch}`]) {
      fs.cpSync(path.join(__dirname, '..', '..', 'node_modules', dep), path.join(pkg, 'node_modules', dep), { recursive: true });
    }
    const shared = path.join(root, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const name = path.join(shared, 'shop');
    const script = path.join(root, 'holder.js');
    fs.writeFileSync(
      script,
      `const { Upgrader } = require(${JSON.stringify(pkg)});
       Upgrader.start({ name: ${JSON.stringify(name)} }).then(async (u) => { await u.ready(); console.log(JSON.stringify({ ready: process.getuid() })); process.stdin.on('end', () => process.exit(0)).resume(); },
         (err) => { console.log(JSON.stringify({ error: err.code, message: err.message })); process.exit(1); });`,
    );
    const args = [script];
    const options = { cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'inherit'] as ('pipe' | 'inherit')[] };
    const holder =
      process.getuid?.() === 0
        ? spawn(process.execPath, args, { ...options, uid: NOBODY, gid: NOBODY })
        : spawn('sudo', ['-n', '-u', `#${NOBODY}`, '-g', `#${NOBODY}`, process.execPath, ...args], options);
    try {
      const first = await new Promise<string>((resolve) => holder.stdout?.once('data', (d) => resolve(String(d))));
      expect(JSON.parse(first)).toEqual({ ready: NOBODY });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Upgrader } = require('../../src/upgrader') as typeof import('../../src/upgrader');
      await expect(Upgrader.start({ name })).rejects.toEqual(expect.objectContaining({ code: 'ERR_FOREIGN_UID', message: expect.stringMatching(/uid 65534/) }));
      // It refused before touching anything: the other user's generation still holds the name.
      expect(holder.exitCode).toBeNull();
    } finally {
      holder.stdin?.end();
      await new Promise((resolve) => (holder.exitCode !== null ? resolve(null) : holder.once('exit', resolve)));
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
