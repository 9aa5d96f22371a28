'use strict';
/** Shared by scripts/bench.js and its child processes: JSON-lines children, local TCP connections, timed exports. */
const net = require('node:net');
const { spawn } = require('node:child_process');
const { round1 } = require('./stats');

const HOST = '127.0.0.1';
const noop = () => undefined;

/** Calls onLine for each non-empty line of a readable stream. */
function onLines(stream, onLine) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}

/**
 * BENCH_NODE_ARGS: options for every Node the benches start, e.g. to profile where the microseconds
 * go: BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (one .cpuprofile per process, pid in
 * its name; rates measured so are not comparable with plain runs).
 */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS || '').split(/\s+/).filter(Boolean);

/**
 * Starts `script` with this Node (the Windows one) as a child that answers in JSON lines on stdout.
 * Its stderr goes to ours. `name` only labels error messages.
 */
function startChild(name, script, args = []) {
  const child = spawn(process.execPath, [...NODE_ARGS, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'], windowsHide: true });
  const queue = [];
  const waiters = [];
  let exitInfo = null;
  const gone = () => new Error(`${name} exited (code ${exitInfo.code}, signal ${exitInfo.signal})`);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      for (const w of waiters.splice(0)) w.reject(gone());
      resolve(exitInfo);
    });
  });
  child.on('error', (err) => {
    for (const w of waiters.splice(0)) w.reject(err);
  });
  child.stdin.on('error', noop); // EPIPE when it is gone; the exit handler reports that
  onLines(child.stdout, (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      msg = { text: line };
    }
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(msg);
    else queue.push(msg);
  });
  const next = () =>
    new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      if (exitInfo) return reject(gone());
      waiters.push({ resolve, reject });
    });
  return {
    name,
    child,
    pid: child.pid,
    exited,
    write: (text) => child.stdin.write(text),
    send: (msg) => child.stdin.write(JSON.stringify(msg) + '\n'),
    /** The next message that satisfies `predicate`; stray text lines are echoed, errors thrown. */
    async expect(predicate, what) {
      for (;;) {
        const msg = await next();
        if (predicate(msg)) return msg;
        if (msg.text !== undefined) console.log(`[${name}] ${msg.text}`);
        else if (msg.error) throw new Error(`${name}: ${typeof msg.error === 'string' ? msg.error : JSON.stringify(msg.error)}`);
        else throw new Error(`${name}: unexpected ${JSON.stringify(msg).slice(0, 200)} while waiting for ${what}`);
      }
    },
    /** Sends `exitText` and waits for the exit; kills the child after 10 s. */
    async stop(exitText) {
      if (exitInfo) return exitInfo;
      try {
        child.stdin.write(exitText);
        child.stdin.end();
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => child.kill(), 10000);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
    kill() {
      if (!exitInfo) child.kill();
    },
  };
}

/** A listening server on 127.0.0.1 whose accepted sockets can be awaited by the client's local port. */
async function startServer() {
  const server = net.createServer();
  const early = new Map();
  const waiting = new Map();
  server.on('connection', (socket) => {
    socket.on('error', noop);
    const port = socket.remotePort;
    const waiter = waiting.get(port);
    if (waiter) {
      waiting.delete(port);
      waiter(socket);
    } else {
      early.set(port, socket);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      server.on('error', (err) => console.error(`bench server error: ${err.message}`));
      resolve();
    });
  });
  const accepted = (port) =>
    new Promise((resolve) => {
      const socket = early.get(port);
      if (socket) {
        early.delete(port);
        resolve(socket);
      } else {
        waiting.set(port, resolve);
      }
    });
  return { server, port: server.address().port, accepted };
}

/** Connects one client to `srv`; resolves with both ends once the server has accepted it. */
function connectPair(srv, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const client = net.connect({ port: srv.port, host: HOST });
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.once('connect', () => {
      client.on('error', noop);
      srv.accepted(client.localPort).then((accepted) => {
        clearTimeout(timer);
        resolve({ client, accepted });
      });
    });
  });
}

/** Destroys sockets and waits until each has emitted 'close'. */
function destroyAndWait(sockets) {
  return Promise.all(
    sockets.map(
      (s) =>
        new Promise((resolve) => {
          if (s.closed) return resolve();
          s.once('close', resolve);
          if (!s.destroyed) s.destroy();
        }),
    ),
  );
}

const closeServer = (server) => new Promise((resolve) => server.close(() => resolve()));

/**
 * Opens `n` TCP sockets in this process: n/2 clients of a local server plus the n/2 ends it accepted,
 * `batch` connections at a time. Stops at the first failure and reports it instead of throwing.
 */
async function openOthers(n, { batch = 200, timeoutMs = 30000 } = {}) {
  const srv = await startServer();
  const clients = [];
  const accepted = [];
  let error = null;
  const pairs = Math.ceil(n / 2);
  const t0 = process.hrtime.bigint();
  while (clients.length < pairs && error === null) {
    const k = Math.min(batch, pairs - clients.length);
    const settled = await Promise.allSettled(Array.from({ length: k }, () => connectPair(srv, timeoutMs)));
    for (const r of settled) {
      if (r.status === 'fulfilled') {
        clients.push(r.value.client);
        accepted.push(r.value.accepted);
      } else if (error === null) {
        error = { code: (r.reason && r.reason.code) || null, message: String(r.reason && r.reason.message), after: clients.length + accepted.length };
      }
    }
  }
  // An odd n: drop one client, its accepted end stays open, so the count is exact.
  const extra = clients.length + accepted.length - n;
  if (extra > 0) await destroyAndWait(clients.splice(0, extra));
  const sockets = [...clients, ...accepted];
  return { srv, clients, accepted, sockets, count: sockets.length, error, open_ms: round1(Number(process.hrtime.bigint() - t0) / 1e6) };
}

/** exportSocket() timed with process.hrtime.bigint(); with a profiler, its sample goes to `samples`. */
function timedExport(pkg, profiler, socket, pid, samples) {
  if (profiler) profiler.begin();
  const t0 = process.hrtime.bigint();
  const token = pkg.exportSocket(socket, pid);
  const ns = Number(process.hrtime.bigint() - t0);
  if (profiler) {
    const sample = profiler.end();
    if (samples) samples.push(sample);
  }
  return { token, ns };
}

module.exports = { HOST, onLines, startChild, startServer, connectPair, destroyAndWait, closeServer, openOthers, timedExport };
