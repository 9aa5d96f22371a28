/**
 * The tests every shipped peer (peers/python, peers/php) passes against the Node side, with the
 * real runtimes (python3, php8.2-cli): both directions, 1,000 hand-offs with flat descriptor
 * counts, the folder and lock rules shared with Node, and bad input (a foreign uid, a dead Node
 * side); malformed frames and a lying pid are rows of test/channel/protocol-conformance.test.ts.
 * Used by test/peers/python/socket_handoff.test.ts and test/peers/php/SocketHandoff.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeOnLinux } from '../support/platform';
import { ask, checkRuntimes, type Driver, frame, type Impl, killDrivers, nextWith, peerCopy, PYTHON as PYTHON_BIN, startDriver } from '../support/channel-peers';

const NOBODY = 65534;

/** `count` clients, `concurrency` at a time, each writing "line <i>"; resolves with every reply in order. */
async function load(port: number, count: number, concurrency = 8): Promise<string[]> {
  const replies: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      replies[i] = await ask(port, `line ${i}`, 20000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return replies;
}

async function settle(driver: Driver, expected: number): Promise<number> {
  for (let i = 0; i < 150 && driver.fds() !== expected; i++) await new Promise((r) => setTimeout(r, 20));
  return driver.fds();
}

/** Runs `count` hand-offs from `from` to `to`; returns replies, adoption lines and both processes' descriptor counts. */
async function handOffs(dir: string, from: Impl, to: Impl, count: number) {
  const endpoint = path.join(dir, `${from}-to-${to}.sock`);
  const receiver = startDriver(to, ['receive', endpoint]);
  expect(await receiver.next()).toMatchObject({ ready: receiver.pid });
  const sender = startDriver(from, ['send', endpoint, String(count), JSON.stringify({ wait: true })]);
  const { port, receiverPid } = await nextWith(sender, 'port');
  expect(receiverPid).toBe(receiver.pid);
  // Counted with the channel connected and the sender's listener open, before the first hand-off.
  const senderBefore = sender.fds();
  const receiverBefore = receiver.fds();
  const replies = await load(port, count);
  const done = await nextWith(sender, 'done', 30000);
  const adopted: Record<string, any>[] = [];
  while (adopted.length < count) adopted.push(await nextWith(receiver, 'adopted', 10000));
  const after = { sender: await settle(sender, senderBefore), receiver: await settle(receiver, receiverBefore) };
  await sender.stop();
  await receiver.stop();
  return { replies, done, adopted, before: { sender: senderBefore, receiver: receiverBefore }, after, receiverPid: receiver.pid, senderPid: sender.pid };
}

export function describePeer(impl: 'python' | 'php'): void {
  describeOnLinux(`the ${impl} peer against the Node side`, 'the peers speak the Unix-socket form; their Windows form is not tested here', () => {
    let dir: string;
    beforeAll(() => {
      checkRuntimes();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `peer-${impl}-`));
    });
    afterAll(() => {
      killDrivers();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it.each([
      ['Node sender', 'node', impl],
      [`${impl} sender`, impl, 'node'],
    ] as const)('1,000 hand-offs, %s: every connection answered once by the receiver, head first; descriptor counts flat in both processes', async (_label, from, to) => {
      const r = await handOffs(dir, from, to, 1000);
      expect(r.done).toMatchObject({ done: true, sent: 1000, kept: 0 });
      expect(r.replies).toEqual(r.replies.map((_, i) => `${to} ${r.receiverPid} got line ${i}\n`));
      // Each hand-off adopted exactly once, with its meta and the sender's pid.
      expect(new Set(r.adopted.map((a) => a.adopted)).size).toBe(1000);
      expect(new Set(r.adopted.map((a) => a.meta.n)).size).toBe(1000);
      expect(r.adopted.every((a) => a.pid === r.senderPid)).toBe(true);
      expect(r.after).toEqual(r.before);
    });

    it('computes the same socket path as Node for every environment (TMPDIR/TMP/TEMP order, trailing slash, XDG_RUNTIME_DIR, normalisation, 107 bytes, bad names)', async () => {
      const base = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      const long = `/tmp/${'d'.repeat(90)}`;
      const envs: [NodeJS.ProcessEnv, string][] = [
        [{}, 'chan'],
        [{ TMPDIR: '/var/tmp/' }, 'chan'],
        [{ TMPDIR: '', TMP: '/srv/tmp', TEMP: '/x' }, 'chan'],
        [{ TEMP: '/only/temp//' }, 'chan'],
        [{ TMPDIR: '/a/./b/../c' }, 'my.chan-1_x'],
        [{ TMPDIR: '/' }, 'chan'],
        [{ XDG_RUNTIME_DIR: '/run/user/0/', TMPDIR: '/ignored' }, 'chan'],
        [{ XDG_RUNTIME_DIR: 'relative/dir', TMPDIR: '/used' }, 'chan'],
        [{ TMPDIR: long }, 'chan'],
        [{}, `/abs//not/normalised/./x.sock`],
        [{}, `/${'p'.repeat(107)}`],
        [{}, `/${'p'.repeat(106)}`],
        [{}, 'a'.repeat(81)],
        [{}, '..'],
        [{}, 'with space'],
        [{}, 'sub/dir'],
      ];
      for (const [env, name] of envs) {
        const node = startDriver('node', ['path', name], { env: { ...base, ...env } });
        const peer = startDriver(impl, ['path', name], { env: { ...base, ...env } });
        const [n, p] = [await node.next(), await peer.next()];
        expect([env, name, p]).toEqual([env, name, n]);
        await Promise.all([node.stop(), peer.stop()]);
      }
      // And the Node side's answers are the documented ones.
      const node = (env: NodeJS.ProcessEnv, name: string) => {
        const d = startDriver('node', ['path', name], { env: { ...base, ...env } });
        return d.next().finally(() => d.stop());
      };
      const euid = process.geteuid?.();
      expect(await node({ TMPDIR: '/var/tmp/' }, 'chan')).toEqual({ path: `/var/tmp/socket-handoff-${euid}/chan.sock` });
      expect(await node({ TMP: '/srv/tmp', TEMP: '/x' }, 'chan')).toEqual({ path: `/srv/tmp/socket-handoff-${euid}/chan.sock` });
      expect(await node({ TMPDIR: '/a/./b/../c' }, 'c')).toEqual({ path: `/a/c/socket-handoff-${euid}/c.sock` });
      expect(await node({ XDG_RUNTIME_DIR: '/run/user/0/' }, 'chan')).toEqual({ path: '/run/user/0/socket-handoff/chan.sock' });
      expect(await node({ TMPDIR: long }, 'chan')).toEqual({ error: 'ERR_INVALID_ARG_VALUE' });
      expect(await node({}, '..')).toEqual({ error: 'ERR_INVALID_ARG_VALUE' });
    });

    it('shares one lock with Node: one receiver per path whatever the language; the lock file is 0600 and stays; a stale socket is replaced, a file is not', async () => {
      const endpoint = path.join(dir, 'lock.sock');
      for (const [first, second] of [[impl, 'node'], ['node', impl]] as const) {
        const a = startDriver(first, ['receive', endpoint]);
        expect(await a.next()).toMatchObject({ ready: a.pid });
        expect(fs.statSync(`${endpoint}.lock`).mode & 0o777).toBe(0o600);
        expect(fs.statSync(endpoint).mode & 0o777).toBe(0o600);
        const b = startDriver(second, ['receive', endpoint]);
        expect(await b.next()).toMatchObject({ error: 'ERR_CHANNEL_IN_USE' });
        await b.stop();
        await a.stop();
        expect(fs.existsSync(endpoint)).toBe(false);
        expect(fs.existsSync(`${endpoint}.lock`)).toBe(true);
      }
      // A receiver killed without closing leaves its socket file: the next one (other language) replaces it.
      const killed = startDriver(impl, ['receive', endpoint]);
      await killed.next();
      killed.child.kill('SIGKILL');
      await killed.stop();
      expect(fs.statSync(endpoint).isSocket()).toBe(true);
      const node = startDriver('node', ['receive', endpoint]);
      expect(await node.next()).toMatchObject({ ready: node.pid });
      await node.stop();
      // Something that is not a socket is never deleted.
      const file = path.join(dir, 'not-a-socket');
      fs.writeFileSync(file, 'keep me');
      const refused = startDriver(impl, ['receive', file]);
      expect(await refused.next()).toMatchObject({ error: 'ERR_CHANNEL_FAILED' });
      await refused.stop();
      expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    });

    it('refuses a runtime folder that is not private (receiver ERR_CHANNEL_FAILED, sender ERR_CHANNEL_UNAVAILABLE), like Node', async () => {
      const tmp = fs.mkdtempSync(path.join(dir, 'tmpdir-'));
      const folder = path.join(tmp, `socket-handoff-${process.geteuid?.()}`);
      fs.mkdirSync(folder, { mode: 0o700 });
      fs.chmodSync(folder, 0o777);
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp };
      for (const who of ['node', impl] as const) {
        const r = startDriver(who, ['receive', 'chan'], { env });
        expect([who, await r.next()]).toEqual([who, expect.objectContaining({ error: 'ERR_CHANNEL_FAILED' })]);
        await r.stop();
        const s = startDriver(who, ['send', 'chan', '1'], { env });
        expect([who, await s.next()]).toEqual([who, expect.objectContaining({ error: 'ERR_CHANNEL_UNAVAILABLE' })]);
        await s.stop();
      }
      // Made private (0700) it works, and both languages find each other by name.
      fs.chmodSync(folder, 0o700);
      const r = startDriver(impl, ['receive', 'chan'], { env });
      expect(await r.next()).toMatchObject({ ready: r.pid, path: path.join(folder, 'chan.sock') });
      const s = startDriver('node', ['send', 'chan', '1'], { env });
      const { port } = await nextWith(s, 'port');
      expect(await ask(port, 'by name')).toBe(`${impl} ${r.pid} got by name\n`);
      await s.stop();
      await r.stop();
    });

    it('uses the effective uid, as Node does: a Node receiver whose real uid is nobody (effective root) and the peer meet by name', async () => {
      // Real uid 65534, effective 0: only root can set that up (setresuid), directly or through sudo -n.
      const tmp = fs.mkdtempSync(path.join(dir, 'euid-'));
      const launch = `import os, sys; os.setresuid(${NOBODY}, 0, 0); os.execvp(sys.argv[1], sys.argv[1:])`;
      const args = ['-c', launch, process.execPath, path.join(__dirname, 'fixtures', 'driver.js'), 'receive', 'euid-chan'];
      // Node ignores TMPDIR and the like when the uids differ (it takes /tmp); the peer is told /tmp too.
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: '/tmp' };
      const child = process.getuid?.() === 0 ? spawn(PYTHON_BIN, args, { env }) : spawn('sudo', ['-n', PYTHON_BIN, ...args], { env });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      for (let i = 0; i < 250 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
      const ready = JSON.parse(out.split('\n')[0]);
      expect(ready).toMatchObject({ ready: child.pid, path: `/tmp/socket-handoff-0/euid-chan.sock` });
      const uids = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)\s+(\d+)/m);
      expect([uids?.[1], uids?.[2]]).toEqual([String(NOBODY), '0']);
      const peer = startDriver(impl, ['send', 'euid-chan', '1'], { env });
      const { port, receiverPid } = await nextWith(peer, 'port');
      expect(receiverPid).toBe(child.pid);
      expect(await ask(port, 'by euid')).toBe(`node ${child.pid} got by euid\n`);
      await peer.stop();
      child.stdin.end();
      await new Promise((resolve) => child.on('exit', resolve));
      // With the ids different, TMPDIR, TMP and TEMP are not trusted (Node's rule): /tmp, in both languages.
      for (const [cmd, script] of [[process.execPath, 'driver.js'], [impl === 'python' ? PYTHON_BIN : 'php', impl === 'python' ? 'driver.py' : 'driver.php']]) {
        const pathArgs = ['-c', launch, cmd, path.join(__dirname, 'fixtures', script), 'path', 'euid-chan'];
        const env2 = { PATH: env.PATH, TMPDIR: tmp };
        const run = process.getuid?.() === 0 ? spawnSync(PYTHON_BIN, pathArgs, { env: env2, encoding: 'utf8' }) : spawnSync('sudo', ['-n', PYTHON_BIN, ...pathArgs], { env: env2, encoding: 'utf8' });
        expect([script, JSON.parse(run.stdout)]).toEqual([script, { path: '/tmp/socket-handoff-0/euid-chan.sock' }]);
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe('bad input', () => {
      it('a Node receiver that dies before answering: the peer\'s send() fails with ERR_RECEIVER_GONE and the peer serves the connection itself', async () => {
        const endpoint = path.join(dir, 'dies.sock');
        const node = startDriver('node', ['receive', endpoint, JSON.stringify({ accept: 'exit' })]);
        await node.next();
        const peer = startDriver(impl, ['send', endpoint, '1']);
        const { port } = await nextWith(peer, 'port');
        const reply = ask(port, 'survivor');
        expect(await nextWith(peer, 'refused')).toMatchObject({ refused: 'ERR_RECEIVER_GONE' });
        expect(await reply).toBe(`${impl} ${peer.pid} kept survivor\n`);
        expect(await nextWith(peer, 'done')).toMatchObject({ sent: 0, kept: 1 });
        expect(await node.stop()).toBe(3);
        await peer.stop();
      });

      it('a Node sender that dies after writing the socket frame: the peer never adopts it, leaks nothing, and serves the next sender', async () => {
        const endpoint = path.join(dir, 'sender-dies.sock');
        const peer = startDriver(impl, ['receive', endpoint]);
        await peer.next();
        const before = peer.fds();
        for (let round = 0; round < 20; round++) {
          const node = startDriver('node', ['send', endpoint, '1', JSON.stringify({ exit_after_send: true })]);
          const { port } = await nextWith(node, 'port');
          const reply = await ask(port, `dies ${round}`);
          expect(await node.stop()).toBe(3);
          // Both copies are gone (the sender died before commit): the connection ends unanswered.
          expect(reply).toMatch(/^(<ECONNRESET>)?$/);
        }
        expect(await settle(peer, before)).toBe(before);
        const node = startDriver('node', ['send', endpoint, '1']);
        const { port } = await nextWith(node, 'port');
        expect(await ask(port, 'after')).toBe(`${impl} ${peer.pid} got after\n`);
        await node.stop();
        const lines = [...peer.lines];
        while (peer.lines.length) peer.lines.shift();
        expect(lines.filter((l) => 'adopted' in l && l.line !== 'after')).toEqual([]);
        await peer.stop();
      });

      it('a sender that stops reading its answers cannot stall the peer: it is dropped after write_timeout and the others are served', async () => {
        const endpoint = path.join(dir, 'stalled.sock');
        const peer = startDriver(impl, ['receive', endpoint, JSON.stringify({ write_timeout: 0.5 })]);
        await peer.next();
        const before = peer.fds();
        // Thousands of socket frames without a descriptor, each answered by a nack nobody reads: the
        // channel's buffers fill and the peer's writes block.
        const stalled = net.connect(endpoint);
        stalled.on('error', () => undefined);
        stalled.pause(); // never reads: the peer's answers pile up
        await new Promise((resolve) => stalled.once('connect', resolve));
        stalled.write(frame({ type: 'hello', role: 'sender', version: 1, pid: process.pid }));
        const flood = Buffer.concat(Array.from({ length: 20000 }, (_, i) => frame({ type: 'socket', id: i + 1, kind: 'socket' })));
        stalled.write(flood);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const node = startDriver('node', ['send', endpoint, '1']);
        const { port } = await nextWith(node, 'port', 15000);
        expect(await ask(port, 'not stalled')).toBe(`${impl} ${peer.pid} got not stalled\n`);
        await node.stop();
        stalled.destroy();
        expect(await settle(peer, before)).toBe(before);
        await peer.stop();
      });

      const asNobody = process.getuid?.() === 0 ? { uid: NOBODY } : undefined;
      const nobody = (args: string[], root: string): Driver => {
        if (asNobody) return startDriver(impl, args, { ...asNobody, root });
        // Not root: through passwordless sudo, as test/cross-process/foreign-uid.test.ts does.
        const [cmd, script] = [impl === 'python' ? 'python3' : 'php', path.join(root, 'test', 'peers', 'fixtures', impl === 'python' ? 'driver.py' : 'driver.php')];
        const child = spawn('sudo', ['-n', '-u', `#${NOBODY}`, '-g', `#${NOBODY}`, cmd, script, ...args]);
        let buffered = '';
        const lines: Record<string, any>[] = [];
        child.stdout.on('data', (d) => {
          buffered += d;
          const parts = buffered.split('\n');
          buffered = parts.pop() as string;
          lines.push(...parts.map((l) => JSON.parse(l)));
        });
        return {
          child: child as never,
          pid: child.pid as number,
          lines,
          async next() {
            for (let i = 0; i < 500 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
            if (!lines.length) throw new Error('sudo -n failed: the foreign-uid test needs root or passwordless sudo');
            return lines.shift() as Record<string, any>;
          },
          fds: () => 0,
          stop: () => new Promise((resolve) => { child.stdin.end(); child.on('exit', resolve); }),
          stderr: () => '',
        };
      };

      it('a foreign uid, both ways: the peer refuses a sender of another user (error ERR_FOREIGN_UID before any hello) and, as sender, a receiver of another user', async () => {
        const root = peerCopy(fs.mkdtempSync(path.join(os.tmpdir(), `peer-uid-${impl}-`)));
        const shared = path.join(root, 'shared');
        fs.mkdirSync(shared, { mode: 0o777 });
        fs.chmodSync(shared, 0o777);
        try {
          // The peer as receiver (this uid); a raw sender of uid nobody, the file opened to it by hand.
          const endpoint = path.join(shared, 'peer-receives.sock');
          const peer = startDriver(impl, ['receive', endpoint]);
          await peer.next();
          fs.chmodSync(endpoint, 0o666);
          const before = peer.fds();
          const probe = spawn(process.execPath, ['-e', `
            const net = require('net'); const c = net.connect(${JSON.stringify(endpoint)});
            let buf = Buffer.alloc(0);
            c.on('data', (d) => { buf = Buffer.concat([buf, d]); });
            c.on('close', () => { const n = buf.length >= 4 ? buf.readUInt32BE(0) : 0; process.stdout.write(JSON.stringify({ first: n ? JSON.parse(buf.subarray(4, 4 + n)) : null, rest: buf.length - 4 - n })); });
            c.on('error', (e) => process.stdout.write(JSON.stringify({ error: e.code })));`], asNobody ?? {});
          let out = '';
          probe.stdout.on('data', (d) => (out += d));
          await new Promise((resolve) => probe.on('exit', resolve));
          const got = JSON.parse(out);
          expect(got).toMatchObject({ first: { type: 'error', code: 'ERR_FOREIGN_UID', message: expect.stringMatching(/uid 65534/) }, rest: 0 });
          expect(await nextWith(peer, 'clientError')).toEqual({ clientError: 'ERR_FOREIGN_UID', pid: probe.pid });
          expect(await settle(peer, before)).toBe(before);
          await peer.stop();

          // The peer as sender (uid nobody) finds a receiver of this uid: it refuses it itself.
          const node = startDriver('node', ['receive', path.join(shared, 'node-receives.sock')]);
          await node.next();
          fs.chmodSync(path.join(shared, 'node-receives.sock'), 0o666);
          const sender = nobody(['send', path.join(shared, 'node-receives.sock'), '1'], root);
          expect(await sender.next()).toMatchObject({ error: 'ERR_FOREIGN_UID' });
          await sender.stop();
          await node.stop();

          // The peer as receiver running as nobody: a Node sender and a peer sender of this uid refuse it.
          const foreign = nobody(['receive', path.join(shared, 'nobody-receives.sock')], root);
          expect(await foreign.next()).toMatchObject({ ready: expect.any(Number) });
          for (const who of ['node', impl] as const) {
            const s = startDriver(who, ['send', path.join(shared, 'nobody-receives.sock'), '1']);
            expect([who, await s.next()]).toEqual([who, expect.objectContaining({ error: 'ERR_FOREIGN_UID' })]);
            await s.stop();
          }
          await foreign.stop();
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      });
    });
  });
}
