/** UnixListener: one receiver per path (flock), stale files replaced, credentials of each peer. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectUnix } from '../../src/posix/unix-connect';
import type { UnixLink } from '../../src/posix/unix-link';
import { UnixListener } from '../../src/posix/unix-listener';
import type { PeerCredentials } from '../../src/posix/socket-credentials';
import { describeOnLinux } from '../support/platform';

const fail = (err: Error) => {
  throw err;
};

describeOnLinux('UnixListener', 'Unix sockets, flock and SO_PEERCRED', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unix-listener-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives each connection with the kernel\'s view of the peer, and a 0600 socket file', async () => {
    const peers: PeerCredentials[] = [];
    const links: UnixLink[] = [];
    const listener = UnixListener.listen(path.join(dir, 'a.sock'), (link, peer) => {
      peers.push(peer);
      links.push(link);
    }, fail);
    expect(fs.statSync(listener.path).mode & 0o777).toBe(0o600);
    expect(listener.replacedStale).toBe(false);
    const client = await connectUnix(listener.path, 1000);
    while (peers.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(peers).toEqual([{ pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() }]);
    client.destroy();
    links.forEach((l) => l.destroy());
    listener.close();
  });

  it('holds the path alone while it listens, and leaves the lock file when it closes', () => {
    const p = path.join(dir, 'b.sock');
    const first = UnixListener.listen(p, () => undefined, fail);
    expect(() => UnixListener.listen(p, () => undefined, fail)).toThrow(expect.objectContaining({ code: 'ERR_CHANNEL_IN_USE' }));
    expect(fs.existsSync(p)).toBe(true); // the live receiver's socket was not touched
    first.close();
    expect(fs.existsSync(p)).toBe(false);
    expect(fs.existsSync(`${p}.lock`)).toBe(true);

  });

  it('replaces a socket file left by a receiver that was killed', async () => {
    const p = path.join(dir, 'c.sock');
    const { spawnSync } = await import('node:child_process');
    const died = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(died.signal).toBe('SIGKILL');
    const listener = UnixListener.listen(p, () => undefined, fail);
    expect(listener.replacedStale).toBe(true);
    listener.close();
  });

  it('does not remove a socket file that is no longer its own', () => {
    const p = path.join(dir, 'd.sock');
    const listener = UnixListener.listen(p, () => undefined, fail);
    fs.rmSync(p);
    fs.writeFileSync(p, 'someone else put this here');
    listener.close();
    expect(fs.readFileSync(p, 'utf8')).toBe('someone else put this here');
  });
});
