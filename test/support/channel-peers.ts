/**
 * Linux: the three implementations of the channel as processes with one command line
 * (test/peers/fixtures/driver.{js,py,php}), and raw ends that write frames by hand, for the
 * conformance table (test/channel/protocol-conformance.test.ts) and the peers' own tests.
 * The runtimes must be installed (.ci/run installs php8.2-cli; python3 is Debian's): a missing
 * one fails the test, it never skips.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { encodeFrame, FrameDecoder } from '../../src/channel/frame-codec';
import { connectUnix } from '../../src/posix/unix-connect';
import type { UnixLink } from '../../src/posix/unix-link';
import { UnixListener } from '../../src/posix/unix-listener';
import type { PeerCredentials } from '../../src/posix/socket-credentials';

export type Impl = 'node' | 'python' | 'php';
export const IMPLS: Impl[] = ['node', 'python', 'php'];
const DRIVERS = path.join(__dirname, '..', 'peers', 'fixtures');

/** Debian's python3 when present (the one the issue names), else the first on PATH. */
export const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
export const PHP = 'php';

/** Fails loudly when a runtime is missing or too old (Python 3.9+, PHP 8.1+ with sockets). */
export function checkRuntimes(): { python: string; php: string } {
  const py = spawnSync(PYTHON, ['-c', 'import sys, socket; assert sys.version_info >= (3, 9) and hasattr(socket, "send_fds"); print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`${PYTHON} 3.9+ is required for the Python peer: ${py.error?.message ?? py.stderr}`);
  const php = spawnSync(PHP, ['-r', 'if (PHP_VERSION_ID < 80100 || !function_exists("socket_sendmsg")) exit(1); echo PHP_VERSION;'], { encoding: 'utf8' });
  if (php.status !== 0) throw new Error(`php 8.1+ with the sockets extension is required for the PHP peer (.ci/run installs php8.2-cli): ${php.error?.message ?? php.stderr}`);
  return { python: py.stdout.trim(), php: php.stdout.trim() };
}

/** The command of a driver; `root` is a copy of the repository's layout (for another uid). */
export function driverCommand(impl: Impl, root?: string): [string, string] {
  const dir = root ? path.join(root, 'test', 'peers', 'fixtures') : DRIVERS;
  if (impl === 'node') return [process.execPath, path.join(dir, 'driver.js')];
  if (impl === 'python') return [PYTHON, path.join(dir, 'driver.py')];
  return [PHP, path.join(dir, 'driver.php')];
}

/** A world-readable copy of a peer and its driver, which another uid can run (`root` for startDriver). */
export function peerCopy(into: string): string {
  for (const rel of ['peers/python/socket_handoff.py', 'peers/php/SocketHandoff.php', 'test/peers/fixtures/driver.py', 'test/peers/fixtures/driver.php']) {
    fs.mkdirSync(path.join(into, path.dirname(rel)), { recursive: true, mode: 0o755 });
    fs.copyFileSync(path.join(__dirname, '..', '..', rel), path.join(into, rel));
  }
  fs.chmodSync(into, 0o755);
  for (const d of ['peers', 'peers/python', 'peers/php', 'test', 'test/peers', 'test/peers/fixtures']) fs.chmodSync(path.join(into, d), 0o755);
  return into;
}

export interface Driver {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** The next JSON line (rejects after `ms`). */
  next(ms?: number): Promise<Record<string, any>>;
  /** Lines received so far and not taken by next(). */
  lines: Record<string, any>[];
  /** Open descriptors of the process (/proc/<pid>/fd). */
  fds(): number;
  /** Closes stdin and waits for the exit. */
  stop(): Promise<number | null>;
  stderr(): string;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Kills every driver still running (afterAll: a failed test must not leave processes behind). */
export function killDrivers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Starts an implementation's driver: `receive PATH [OPTIONS]` or `send PATH COUNT [OPTIONS]`. */
export function startDriver(impl: Impl, args: string[], options: { uid?: number; cwd?: string; env?: NodeJS.ProcessEnv; root?: string } = {}): Driver {
  const [cmd, script] = driverCommand(impl, options.root);
  const child = spawn(cmd, [script, ...args], {
    stdio: 'pipe',
    ...(options.env ? { env: options.env } : {}),
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }) as ChildProcessWithoutNullStreams;
  running.add(child);
  child.on('exit', () => running.delete(child));
  let buffered = '';
  let errors = '';
  const lines: Record<string, any>[] = [];
  const waiters: ((line: Record<string, any> | undefined) => void)[] = [];
  let exited = false;
  child.stdout.on('data', (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, any>;
      try {
        line = JSON.parse(text);
      } catch {
        line = { unparsed: text };
      }
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.stderr.on('data', (d) => (errors += d));
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exited = true;
      waiters.splice(0).forEach((w) => w(undefined));
      resolve(code);
    }),
  );
  return {
    child,
    pid: child.pid as number,
    lines,
    next(ms = 10000) {
      if (lines.length) return Promise.resolve(lines.shift() as Record<string, any>);
      if (exited) return Promise.reject(new Error(`${impl} driver exited; stderr:\n${errors}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(settle);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`${impl} driver printed nothing within ${ms} ms; stderr:\n${errors}`));
        }, ms);
        const settle = (line: Record<string, any> | undefined) => {
          clearTimeout(timer);
          if (line === undefined) reject(new Error(`${impl} driver exited; stderr:\n${errors}`));
          else resolve(line);
        };
        waiters.push(settle);
      });
    },
    fds: () => fs.readdirSync(`/proc/${child.pid}/fd`).length,
    stop() {
      if (!exited) {
        child.stdin.end();
        // A sender driver waiting for a connection does not read stdin: end it after a grace period.
        const timer = setTimeout(() => child.kill(), 2000);
        void exit.then(() => clearTimeout(timer));
      }
      return exit;
    },
    stderr: () => errors,
  };
}

/** Waits for the driver line that has `key` (skipping others, which stay in `skipped`). */
export async function nextWith(driver: Driver, key: string, ms = 10000, skipped: Record<string, any>[] = []): Promise<Record<string, any>> {
  for (;;) {
    const line = await driver.next(ms);
    if (key in line) return line;
    skipped.push(line);
  }
}

/** A frame with a hand-written body (so tests can send what JSON.stringify never writes). */
export function rawFrame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const frame = Buffer.alloc(4 + bytes.length);
  frame.writeUInt32BE(bytes.length, 0);
  bytes.copy(frame, 4);
  return frame;
}

export const frame = (message: object) => encodeFrame(message);

/** Collects a link's frames; next() gives each, or undefined once the peer closed. */
export function frameReader(link: UnixLink) {
  const decoder = new FrameDecoder();
  const got: { message: Record<string, unknown>; fds: number[] }[] = [];
  const waiters: (() => void)[] = [];
  let closed = false;
  let failure: Error | undefined;
  link.on('data', (chunk: Buffer, descriptors: { take(): number }[] = []) => {
    const fds = descriptors.map((d) => d.take());
    try {
      // Good enough for the well-behaved ends under test: the descriptors of a read go to the first
      // socket frame completed in it (the package's own binding rule is tested on the receiver).
      const messages = decoder.push(chunk);
      const owner = messages.findIndex((m) => m.type === 'socket');
      messages.forEach((message, i) => got.push({ message, fds: i === owner ? fds : [] }));
      if (owner < 0) fds.forEach((fd) => fs.closeSync(fd));
    } catch (err) {
      failure = err as Error;
    }
    waiters.splice(0).forEach((w) => w());
  });
  link.on('error', () => undefined);
  link.on('close', () => {
    closed = true;
    waiters.splice(0).forEach((w) => w());
  });
  const wait = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  return {
    get closed() {
      return closed;
    },
    get failure() {
      return failure;
    },
    /** The next frame, undefined once the peer closed, or 'timeout' after `ms`. */
    async next(ms = 5000): Promise<Record<string, unknown> | undefined | 'timeout'> {
      return (await this.nextWithFds(ms))?.message ?? (closed ? undefined : 'timeout');
    },
    async nextWithFds(ms = 5000): Promise<{ message: Record<string, unknown>; fds: number[] } | undefined> {
      const deadline = Date.now() + ms;
      while (got.length === 0 && !closed) {
        if (!(await wait(Math.max(1, deadline - Date.now())))) break;
      }
      return got.shift();
    },
    /** Resolves once the peer closed (true) or after `ms` (false). */
    async closes(ms = 3000): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (!closed && Date.now() < deadline) await wait(deadline - Date.now());
      return closed;
    },
  };
}

/** A raw sender: connects to `endpoint`, returns the link, its reader and the receiver's hello. */
export async function rawSender(endpoint: string) {
  const link = await connectUnix(endpoint, 2000);
  const reader = frameReader(link);
  const hello = await reader.next();
  return { link, reader, hello };
}

/** A raw receiver listening at `endpoint`: each connection comes with its reader and SO_PEERCRED. */
export function rawReceiver(endpoint: string) {
  const conns: { link: UnixLink; peer: PeerCredentials; reader: ReturnType<typeof frameReader> }[] = [];
  const waiters: (() => void)[] = [];
  const listener = UnixListener.listen(
    endpoint,
    (link, peer) => {
      conns.push({ link, peer, reader: frameReader(link) });
      waiters.splice(0).forEach((w) => w());
    },
    () => undefined,
  );
  return {
    listener,
    async accept(ms = 10000) {
      const deadline = Date.now() + ms;
      while (conns.length === 0) {
        if (Date.now() > deadline) throw new Error('no sender connected');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return conns.shift() as (typeof conns)[number];
    },
    close: () => listener.close(),
  };
}

/** A connected TCP pair on 127.0.0.1: `client` (the test's end) and `accepted` (the one handed over). */
export async function tcpPair(): Promise<{ client: net.Socket; accepted: net.Socket; close: () => void }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  const socket = await accepted;
  server.close();
  return { client, accepted: socket, close: () => { client.destroy(); socket.destroy(); } };
}

/** The descriptor behind a Node socket or server (test-only). */
export const fdOf = (s: net.Socket | net.Server): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

/** Reads everything a socket says until it ends. */
export function readAll(socket: net.Socket, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(`${text}<timeout>`), ms);
    socket.on('data', (d) => (text += d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      resolve(`${text}<${(err as NodeJS.ErrnoException).code}>`);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** Connects to 127.0.0.1:port, writes `line`, and resolves with what comes back. */
export function ask(port: number, line: string, ms = 10000): Promise<string> {
  const socket = net.connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
  return readAll(socket, ms);
}
