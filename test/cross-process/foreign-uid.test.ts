/**
 * Linux: only processes of the receiver's own user may hand it sockets. The socket file is 0600,
 * and both ends check the other's uid with SO_PEERCRED, so even a socket made reachable by hand
 * refuses a sender of another user (and a sender refuses a receiver of another user).
 * The other user is `nobody` (65534): started directly when the tests run as root (CI here), else
 * through `sudo -n -u #65534` (passwordless sudo, as on GitHub's runners); without either it fails.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openReceiver, type SocketReceiver } from '../../src/channel/receiver';
import { openSender } from '../../src/channel/sender';
import { REPO } from './fixture-runner';
import { describeOnLinux } from '../support/platform';

const NOBODY = 65534;

/** A world-readable copy of the built package and koffi, which `nobody` can load. */
function packageCopy(root: string): string {
  const pkg = path.join(root, 'pkg');
  fs.cpSync(path.join(REPO, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'socket-handoff', main: 'dist/index.js' }));
  for (const dep of ['koffi', `@koromix/koffi-linux-${process.arch}`]) {
    fs.cpSync(path.join(REPO, 'node_modules', dep), path.join(pkg, 'node_modules', dep), { recursive: true });
  }
  fs.copyFileSync(path.join(__dirname, 'fixtures', 'foreign-uid.js'), path.join(root, 'foreign-uid.js'));
  return pkg;
}

/** Starts the fixture as `nobody`; resolves each JSON line it prints. */
function asNobody(root: string, mode: string, endpoint: string) {
  const args = [path.join(root, 'foreign-uid.js'), path.join(root, 'pkg'), mode, endpoint];
  const options = { cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'inherit'] as ('pipe' | 'inherit')[] };
  const child =
    process.getuid?.() === 0
      ? spawn(process.execPath, args, { ...options, uid: NOBODY, gid: NOBODY })
      : spawn('sudo', ['-n', '-u', `#${NOBODY}`, '-g', `#${NOBODY}`, process.execPath, ...args], options);
  let buffered = '';
  const lines: Record<string, unknown>[] = [];
  const waiters: ((line: Record<string, unknown>) => void)[] = [];
  child.stdout?.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => (lines.length ? resolve(lines.shift() as Record<string, unknown>) : waiters.push(resolve)));
  return { child, next };
}

describeOnLinux('channel between users', 'uids and SO_PEERCRED', () => {
  let root: string;
  let receiver: SocketReceiver;
  const clientErrors: { code: string; pid?: number }[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'foreign-uid-'));
    fs.chmodSync(root, 0o755);
    packageCopy(root);
    receiver = await openReceiver(path.join(root, 'chan.sock'), (socket) => void (socket as net.Socket).destroy());
    receiver.on('clientError', (err: { code: string }, pid?: number) => clientErrors.push({ code: err.code, pid }));
  }, 30000);

  afterAll(async () => {
    await receiver?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('keeps another user from even connecting: the socket file is 0600', async () => {
    expect(fs.statSync(receiver.endpoint).mode & 0o777).toBe(0o600);
    const { next } = asNobody(root, 'connect', receiver.endpoint);
    expect(await next()).toEqual({ error: 'EACCES' });
  });

  it('refuses a sender of another user with ERR_FOREIGN_UID, even when the file lets it connect', async () => {
    fs.chmodSync(receiver.endpoint, 0o666);
    const { next, child } = asNobody(root, 'send', receiver.endpoint);
    const answer = await next();
    expect(answer).toMatchObject({ error: 'ERR_FOREIGN_UID', uid: NOBODY, message: expect.stringMatching(/uid 65534/) });
    // The receiver names the process the kernel says it is (SO_PEERCRED), before any hello.
    expect(clientErrors).toEqual([{ code: 'ERR_FOREIGN_UID', pid: child.pid }]);
    expect(answer.pid).toBe(child.pid);
  });

  it('refuses, as a sender, a receiver that runs as another user', async () => {
    const dir = path.join(root, 'nobody-owned');
    fs.mkdirSync(dir, { mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    const endpoint = path.join(dir, 'chan.sock');
    const foreign = asNobody(root, 'receive', endpoint);
    expect(await foreign.next()).toMatchObject({ uid: NOBODY });
    await expect(openSender(endpoint)).rejects.toEqual(expect.objectContaining({ code: 'ERR_FOREIGN_UID', message: expect.stringMatching(/uid 65534/) }));
    foreign.child.stdin?.end();
    await new Promise((resolve) => foreign.child.on('exit', resolve));
  });
});
