'use strict';
/**
 * Zero-downtime restart experiment: how many client connections are lost (refused, reset, closed
 * with no answer, timed out) when a listening socket is handed from an old server process to its
 * successor while a continuous stream of client connections is running.
 *
 *   node scripts/research/restart-loss.js [--approach NAME[,NAME]|all] [--succ libuv|ctl] [--runs 5]
 *        [--restarts 1] [--gap 700] [--clients 32] [--duration 5000] [--max 4000] [--handover-at 1000]
 *
 * One run: old server listens on 127.0.0.1; the load generator starts `clients` loops (connect, send
 * "REQ n\n", expect "OK <pid> <gen>\n", close) bounded by --duration ms and --max connections; after
 * --handover-at ms a successor process starts, gets the token (exportSocket for its pid, relayed by
 * this orchestrator over pipes), starts accepting, and only then the old one is told to RELEASE and
 * exits when its last connection is done. --restarts N chains N hand-overs (gen old -> new1 -> ...).
 * --succ: successors adopt with toNetServer() (libuv) or run the controlled accept loop (ctl).
 * Every connection that is refused, reset, closed without a reply or times out (10 s) is a loss.
 *   e.g. node scripts/research/restart-loss.js --approach ctl-raw --succ ctl --restarts 3 --duration 6000
 *
 * Off Windows it re-runs itself under Wine (scripts/win-node). Roles (internal): orchestrator
 * (default), server (--role server --gen old|new), load (--role load).
 * Approaches for the OLD process (see APPROACHES below); --approach all runs each in turn.
 * Exit status 0 when every run of every approach lost nothing, 1 otherwise.
 */
const path = require('node:path');
const net = require('node:net');
const readline = require('node:readline');
const { spawn, spawnSync } = require('node:child_process');

// ---------------------------------------------------------------------------------------------
// argv
const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}
const ROLE = opt('role', 'orchestrator');

if (process.platform !== 'win32') {
  // Re-run under Wine with the Windows build of Node (see scripts/win-node).
  const winNode = path.join(__dirname, '..', 'win-node');
  const r = spawnSync('bash', [winNode, __filename, ...argv], { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
}

const HOST = '127.0.0.1';
const DIST = path.join(__dirname, '..', '..', 'dist');

const APPROACHES = {
  // export the libuv listener; after the successor accepts: server.close(); exit when idle.
  naive: 'exportSocket(server); then server.close()',
  // same, but CancelIoEx(libuv SOCKET, NULL) immediately before server.close() (same JS tick).
  'cancel-close': 'CancelIoEx(listener) then server.close()',
  // single pending AcceptEx (setSimultaneousAccepts(false)) at hand-over, then CancelIoEx + close.
  'single-cancel-close': 'setSimultaneousAccepts(false) at hand-over; CancelIoEx + close at release',
  // single pending AcceptEx; at release, close (CancelIoEx + server.close()) inside the next
  // 'connection' callback, i.e. right after libuv re-queued its one AcceptEx (self-connect if idle).
  'single-close-in-cb': 'setSimultaneousAccepts(false) at hand-over; at release close inside the next connection callback',
  // close the libuv SOCKET with a raw closesocket() (libuv keeps thinking it listens), later server.close().
  rawclose: 'closesocket(libuv SOCKET) raw, server.close() once libuv reports the accept error',
  // move off libuv at START-UP (before any client): own duplicate + select()/accept() loop.
  'ctl-startup': 'own-duplicate select()+accept() loop from start-up; release = stop loop, closesocket',
  // move off libuv AT HAND-OVER (under load): CancelIoEx + server.close(), then own accept loop.
  'ctl-migrate': 'migrate to own accept loop at hand-over (CancelIoEx + close); release = stop, closesocket',
  // same without CancelIoEx: shows what libuv's close leaves behind when a duplicate is open in-process.
  'ctl-migrate-nocancel': 'migrate to own accept loop at hand-over (server.close() only)',
  // never a libuv listener: WSASocketW + bind + listen through koffi, own select()+accept() loop.
  'ctl-raw': 'listening SOCKET made with WSASocketW/bind/listen, own select()+accept() loop; release = stop, closesocket',
};

// ---------------------------------------------------------------------------------------------
// Win32 bindings (koffi), only in server roles.
let W;
function win32() {
  if (W) return W;
  const koffi = require(path.join(__dirname, '..', '..', 'node_modules', 'koffi'));
  const ws = koffi.load('ws2_32.dll');
  const k32 = koffi.load('kernel32.dll');
  const uv = koffi.load(process.execPath);
  W = {
    koffi,
    // SOCKET = UINT_PTR
    accept: ws.func('uintptr_t __stdcall accept(uintptr_t s, void *addr, void *addrlen)'),
    closesocket: ws.func('int __stdcall closesocket(uintptr_t s)'),
    select: ws.func('int __stdcall select(int nfds, _Inout_ uint8_t *readfds, void *writefds, void *exceptfds, uint8_t *timeout)'),
    ioctlsocket: ws.func('int __stdcall ioctlsocket(uintptr_t s, int32_t cmd, _Inout_ uint32_t *argp)'),
    getsockname: ws.func('int __stdcall getsockname(uintptr_t s, _Out_ uint8_t *name, _Inout_ int *namelen)'),
    getpeername: ws.func('int __stdcall getpeername(uintptr_t s, _Out_ uint8_t *name, _Inout_ int *namelen)'),
    WSAGetLastError: ws.func('int __stdcall WSAGetLastError()'),
    WSASocketW: ws.func('uintptr_t __stdcall WSASocketW(int af, int type, int protocol, void *info, uint32_t g, uint32_t flags)'),
    bind: ws.func('int __stdcall bind(uintptr_t s, uint8_t *name, int namelen)'),
    listen: ws.func('int __stdcall listen(uintptr_t s, int backlog)'),
    setsockopt: ws.func('int __stdcall setsockopt(uintptr_t s, int level, int optname, uint8_t *optval, int optlen)'),
    SetHandleInformation: k32.func('int __stdcall SetHandleInformation(uintptr_t h, uint32_t mask, uint32_t flags)'),
    CancelIoEx: k32.func('int __stdcall CancelIoEx(uintptr_t hFile, void *lpOverlapped)'),
    GetLastError: k32.func('uint32_t __stdcall GetLastError()'),
    uv_default_loop: uv.func('uintptr_t uv_default_loop()'),
    uv_handle_get_type: uv.func('int uv_handle_get_type(uintptr_t h)'),
    uv_fileno: uv.func('int uv_fileno(uintptr_t h, _Out_ uintptr_t *fd)'),
  };
  return W;
}
const FIONBIO = 0x8004667e | 0;
const WSAEWOULDBLOCK = 10035;

function isInvalidSocket(v) {
  const b = typeof v === 'bigint' ? v : BigInt(Math.round(v));
  return b >= 0xffffffffffffffffn || b > 0xffffffffffffn || (typeof v === 'number' && v > Number.MAX_SAFE_INTEGER);
}

/** Port of a SOCKET (getsockname), or -1. */
function socketPort(s) {
  const w = win32();
  const buf = Buffer.alloc(128);
  const len = [128];
  if (w.getsockname(s, buf, len) !== 0) return -1;
  return buf.readUInt16BE(2);
}
function hasPeer(s) {
  const w = win32();
  const buf = Buffer.alloc(128);
  return w.getpeername(s, buf, [128]) === 0;
}

/** The SOCKET of libuv's listening TCP handle on `port` (walks uv_default_loop's handle queue). */
function libuvListenerSocket(port) {
  const w = win32();
  const P = BigInt(w.koffi.sizeof('void*'));
  const read = (a) => BigInt(w.koffi.decode.uint64(a));
  const loop = BigInt(w.uv_default_loop());
  const head = loop + 2n * P; // uv_loop_t.handle_queue
  const found = [];
  for (let node = read(head); node !== head; node = read(node)) {
    const h = node - 4n * P; // uv_handle_t.handle_queue
    if (w.uv_handle_get_type(h) !== 12 /* UV_TCP */) continue;
    const out = [0];
    if (w.uv_fileno(h, out) !== 0) continue;
    const s = BigInt(out[0]);
    if (socketPort(s) === port && !hasPeer(s)) found.push(s);
  }
  if (found.length !== 1) throw new Error(`expected one libuv listener on port ${port}, found ${found.length}`);
  return found[0];
}

/** A listening TCP SOCKET on 127.0.0.1:0 made without libuv: WSASocketW, bind, listen(SOMAXCONN). */
function rawListener() {
  const w = win32();
  const raw = w.WSASocketW(2 /* AF_INET */, 1 /* SOCK_STREAM */, 6 /* IPPROTO_TCP */, null, 0, 0x01 /* WSA_FLAG_OVERLAPPED */);
  if (isInvalidSocket(raw)) throw new Error(`WSASocketW ${w.WSAGetLastError()}`);
  const s = BigInt(raw);
  w.SetHandleInformation(s, 1 /* HANDLE_FLAG_INHERIT */, 0);
  // SO_EXCLUSIVEADDRUSE (~SO_REUSEADDR = -5), as a server on Windows should.
  const one = Buffer.alloc(4);
  one.writeInt32LE(1);
  w.setsockopt(s, 0xffff, ~0x0004, one, 4);
  const sin = Buffer.alloc(16);
  sin.writeUInt16LE(2, 0);
  sin.writeUInt16BE(0, 2);
  Buffer.from([127, 0, 0, 1]).copy(sin, 4);
  if (w.bind(s, sin, 16) !== 0) throw new Error(`bind ${w.WSAGetLastError()}`);
  if (w.listen(s, 0x7fffffff /* SOMAXCONN */) !== 0) throw new Error(`listen ${w.WSAGetLastError()}`);
  return s;
}

function wrapAccepted(s) {
  // eslint-disable-next-line no-undef
  const { TCP, constants } = process.binding('tcp_wrap');
  const h = new TCP(constants.SOCKET);
  const err = h.open(Number(s));
  if (err !== 0) throw new Error(`tcp_wrap open(${s}) failed: ${err}`);
  return new net.Socket({ handle: h, readable: true, writable: true });
}

/**
 * Accept path we control: a select() with a 50 ms timeout runs on a worker thread (koffi async),
 * the main thread then drains the backlog with non-blocking accept() until WSAEWOULDBLOCK. Nothing
 * is outstanding in the kernel for this process between accept() calls, so stopping is: set the
 * flag, let the in-flight select() return, closesocket(). Connections not accepted stay in the
 * backlog for whoever else holds the listening socket.
 */
class ControlledAcceptor {
  constructor(sock, onSocket) {
    this.sock = BigInt(sock);
    this.onSocket = onSocket;
    this.running = false;
    this.inflight = false;
    this.accepted = 0;
    this.onStopped = null;
    const w = win32();
    if (w.ioctlsocket(this.sock, FIONBIO, [1]) !== 0) throw new Error(`ioctlsocket(FIONBIO) ${w.WSAGetLastError()}`);
    this.fds = Buffer.alloc(8 + 8 * 64);
    this.tv = Buffer.alloc(8);
  }
  start() {
    this.running = true;
    this.drain(); // anything already in the backlog
    this.poll();
  }
  poll() {
    if (!this.running) return this.finish();
    const w = win32();
    this.fds.fill(0);
    this.fds.writeUInt32LE(1, 0); // fd_count
    this.fds.writeBigUInt64LE(this.sock, 8); // fd_array[0]
    this.tv.writeInt32LE(0, 0);
    this.tv.writeInt32LE(50_000, 4);
    this.inflight = true;
    w.select.async(0, this.fds, null, null, this.tv, (err, n) => {
      this.inflight = false;
      if (err) process.stderr.write(`select async error ${err}\n`);
      if (this.running && n > 0) this.drain();
      if (n < 0) process.stderr.write(`select failed ${win32().WSAGetLastError()}\n`);
      this.poll();
    });
  }
  drain() {
    const w = win32();
    for (let i = 0; i < 256 && this.running; i++) {
      const raw = w.accept(this.sock, null, null);
      if (isInvalidSocket(raw)) {
        const e = w.WSAGetLastError();
        if (e !== WSAEWOULDBLOCK) process.stderr.write(`accept failed ${e}\n`);
        return;
      }
      this.accepted++;
      this.onSocket(wrapAccepted(BigInt(raw)));
    }
  }
  /** Stop accepting; cb after the in-flight select() returned and our SOCKET is closed. */
  stop(cb) {
    this.running = false;
    this.onStopped = cb;
    if (!this.inflight) this.finish();
  }
  finish() {
    if (this.closed) return;
    this.closed = true;
    win32().closesocket(this.sock);
    const cb = this.onStopped;
    this.onStopped = null;
    if (cb) cb();
  }
}

// ---------------------------------------------------------------------------------------------
// Server role
function serverRole() {
  const gen = opt('gen', 'old');
  const approach = opt('approach', 'naive');
  const succ = opt('succ', 'libuv');
  const { exportSocket, importSocket } = require(DIST);
  const out = (line) => process.stdout.write(`${line}\n`);
  const t0 = Date.now();
  const stats = { gen, pid: process.pid, served: 0, servedAfterRelease: 0, viaCtl: 0, viaLibuv: 0, errors: 0, notes: [] };
  let active = 0;
  let released = false;
  let closed = false; // our listener copy fully gone
  let port = 0;
  let server = null; // net.Server (libuv listener), if any
  let ctl = null; // ControlledAcceptor, if any
  let libuvSock = null;

  let closeInNextCallback = null;
  let sinceSingle = -1; // libuv accepts since setSimultaneousAccepts(false); >= 32 means single mode is in effect
  function handle(socket, via) {
    if (sinceSingle >= 0 && via === 'libuv') sinceSingle++;
    if (closeInNextCallback && sinceSingle >= 32) closeInNextCallback();
    active++;
    if (via === 'ctl') stats.viaCtl++;
    else stats.viaLibuv++;
    let buf = '';
    let done = false;
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      buf += d;
      if (!done && buf.includes('\n')) {
        done = true;
        stats.served++;
        if (released) stats.servedAfterRelease++;
        socket.end(`OK ${process.pid} ${gen}\n`);
      }
    });
    socket.on('error', () => {
      stats.errors++;
    });
    socket.on('close', () => {
      active--;
      maybeExit();
    });
  }
  function maybeExit() {
    if (released && closed && active === 0) {
      out(`STATS ${JSON.stringify(stats)}`);
      setTimeout(() => process.exit(0), 50);
    }
  }

  /** Own duplicate of a libuv listener (WSADuplicateSocketW to our own pid + WSASocketW). */
  function ownDuplicate() {
    const h = importSocket(exportSocket(server, process.pid));
    if (h.handle === libuvSock) throw new Error('own duplicate has the same SOCKET value as the libuv listener');
    return h.handle;
  }
  function startCtl(sock) {
    ctl = new ControlledAcceptor(sock, (s) => handle(s, 'ctl'));
    ctl.start();
  }
  /** Leave libuv's listener: own duplicate, (CancelIoEx), server.close(), own accept loop. */
  function migrate(cancel) {
    const dup = ownDuplicate();
    const w = win32();
    if (cancel && !w.CancelIoEx(libuvSock, null)) stats.notes.push(`CancelIoEx failed ${w.GetLastError()}`);
    server.close();
    server = null;
    startCtl(dup);
  }

  function onListening() {
    port = server.address().port;
    libuvSock = libuvListenerSocket(port);
    if (approach === 'ctl-startup') migrate(true);
    out(`READY ${port} ${process.pid}`);
  }

  if (gen === 'old' && approach === 'ctl-raw') {
    const s = rawListener();
    port = socketPort(s);
    startCtl(s);
    out(`READY ${port} ${process.pid}`);
  } else if (gen === 'old') {
    server = net.createServer((s) => handle(s, 'libuv'));
    server.on('error', (e) => stats.notes.push(`server error ${e.code || e.message}`));
    server.listen(0, HOST, onListening);
  } else {
    out(`READY 0 ${process.pid}`);
  }

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    try {
      if (cmd === 'HANDOVER') {
        const target = Number(arg);
        if (gen === 'old' && (approach === 'single-cancel-close' || approach === 'single-close-in-cb')) {
          const r = server._handle.setSimultaneousAccepts(false);
          stats.notes.push(`setSimultaneousAccepts(false) -> ${r}`);
          sinceSingle = 0;
        }
        if (gen === 'old' && approach === 'ctl-migrate') migrate(true);
        if (gen === 'old' && approach === 'ctl-migrate-nocancel') migrate(false);
        const token = ctl ? exportSocket(ctl.sock, target) : exportSocket(server, target);
        out(`TOKEN ${token}`);
      } else if (cmd === 'TOKEN') {
        const h = importSocket(arg);
        if (succ === 'ctl') startCtl(h.handle);
        else {
          server = h.toNetServer((s) => handle(s, 'libuv'));
          server.on('error', (e) => stats.notes.push(`server error ${e.code || e.message}`));
        }
        out('ACCEPTING');
      } else if (cmd === 'RELEASE' || cmd === 'QUIT') {
        released = true;
        stats.releaseAt = Date.now();
        const w = gen === 'old' ? win32() : null;
        if (ctl) {
          ctl.stop(() => {
            closed = true;
            maybeExit();
          });
        }
        if (server) {
          const srv = server;
          const finishServer = () => srv.close(() => {
            closed = true;
            maybeExit();
          });
          if (gen === 'old' && approach === 'single-close-in-cb') {
            let selfConnects = 0;
            const idle = setInterval(() => {
              selfConnects++;
              net.connect(port, HOST).on('connect', function () { this.destroy(); }).on('error', () => {});
            }, 20);
            closeInNextCallback = () => {
              closeInNextCallback = null;
              clearInterval(idle);
              stats.notes.push(`closed in callback after ${Date.now() - stats.releaseAt} ms, ${selfConnects} self-connects, ${sinceSingle} accepts since single`);
              if (!w.CancelIoEx(libuvSock, null)) stats.notes.push(`CancelIoEx failed ${w.GetLastError()}`);
              finishServer();
            };
          } else if (gen === 'old' && (approach === 'cancel-close' || approach === 'single-cancel-close')) {
            if (!w.CancelIoEx(libuvSock, null)) stats.notes.push(`CancelIoEx failed ${w.GetLastError()}`);
            finishServer();
          } else if (gen === 'old' && approach === 'rawclose') {
            if (w.closesocket(libuvSock) !== 0) stats.notes.push(`closesocket failed ${w.WSAGetLastError()}`);
            // libuv learns of it when it next queues an AcceptEx; close it after a grace period anyway.
            srv.removeAllListeners('error');
            srv.on('error', (e) => {
              stats.notes.push(`after rawclose: ${e.code || e.message}`);
            });
            setTimeout(finishServer, 500);
          } else {
            finishServer();
          }
        }
      }
    } catch (e) {
      process.stderr.write(`[${gen} ${process.pid}] ${cmd} failed: ${e && e.stack}\n`);
      process.exit(3);
    }
  });
  rl.on('close', () => {
    // stdin gone: orchestrator died.
    setTimeout(() => process.exit(4), 2000).unref();
  });
  void t0;
}

// ---------------------------------------------------------------------------------------------
// Load role: `clients` concurrent loops of connect / send a line / expect "OK <pid>" / close.
function loadRole() {
  const port = Number(opt('port'));
  const clients = Number(opt('clients', '32'));
  const duration = Number(opt('duration', '5000'));
  const max = Number(opt('max', '4000'));
  const timeoutMs = Number(opt('timeout', '10000'));
  const res = { started: 0, ok: 0, byPid: {}, lost: {}, lostAt: [], firstAt: {}, lastAt: {} };
  let t0 = 0;
  let running = 0;
  let stopping = false;

  function lose(kind, t) {
    res.lost[kind] = (res.lost[kind] || 0) + 1;
    if (res.lostAt.length < 50) res.lostAt.push([kind, t]);
  }
  function one() {
    if (stopping || Date.now() - t0 >= duration || res.started >= max) {
      if (--running === 0) finish();
      return;
    }
    res.started++;
    const id = res.started;
    const tStart = Date.now();
    let reply = '';
    let settled = false;
    const c = net.connect({ port, host: HOST });
    const settle = (kind) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (kind === 'ok') {
        res.ok++;
        const pid = reply.split(' ')[1];
        res.byPid[pid] = (res.byPid[pid] || 0) + 1;
        const t = Date.now() - t0;
        if (!(pid in res.firstAt)) res.firstAt[pid] = t;
        res.lastAt[pid] = t;
      } else lose(kind, tStart);
      c.destroy();
      setImmediate(one);
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);
    c.setEncoding('latin1');
    c.on('connect', () => c.write(`REQ ${id}\n`));
    c.on('data', (d) => {
      reply += d;
      if (reply.includes('\n')) settle(reply.startsWith('OK ') ? 'ok' : 'badreply');
    });
    c.on('error', (e) => settle(e.code || 'error'));
    c.on('close', () => settle(reply ? 'partial' : 'noanswer'));
  }
  function finish() {
    res.t0 = t0;
    res.elapsed = Date.now() - t0;
    process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
    setTimeout(() => process.exit(0), 50);
  }
  t0 = Date.now();
  process.stdout.write(`STARTED ${t0}\n`);
  running = clients;
  for (let i = 0; i < clients; i++) setImmediate(one);
  process.stdin.on('data', () => {}); // keep stdin flowing; STOP not needed
}

// ---------------------------------------------------------------------------------------------
// Orchestrator
function lines(child, tag, onLine) {
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', (l) => process.stderr.write(`${tag} ${l}\n`));
}
function waitFor(pred, what, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), ms);
    const iv = setInterval(() => {
      const v = pred();
      if (v !== undefined && v !== null && v !== false) {
        clearTimeout(t);
        clearInterval(iv);
        resolve(v);
      }
    }, 5);
  });
}
function spawnRole(args) {
  return spawn(process.execPath, [__filename, ...args], { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
}

async function oneRun(approach, cfg) {
  const st = { restarts: [] };
  const children = [];
  const kill = () => children.forEach((c) => c.exitCode === null && c.kill());
  /** Spawns a server generation and collects what it prints. */
  function server(gen, extra) {
    const child = spawnRole(['--role', 'server', '--gen', gen, '--approach', approach, ...extra]);
    children.push(child);
    const g = { gen, child };
    child.on('exit', (code) => (g.exit = code));
    lines(child, `[${gen}]`, (l) => {
      if (l.startsWith('READY ')) [g.port, g.pid] = l.slice(6).split(' ').map(Number);
      else if (l.startsWith('TOKEN ')) g.token = l.slice(6);
      else if (l === 'ACCEPTING') g.accepting = Date.now();
      else if (l.startsWith('STATS ')) g.stats = JSON.parse(l.slice(6));
      else process.stderr.write(`[${gen}] ${l}\n`);
    });
    return g;
  }
  const gens = [];
  try {
    let cur = server('old', []);
    gens.push(cur);
    await waitFor(() => cur.port, 'old READY', 20000);
    st.port = cur.port;

    const load = spawnRole(['--role', 'load', '--port', String(st.port), '--clients', String(cfg.clients),
      '--duration', String(cfg.duration), '--max', String(cfg.max)]);
    children.push(load);
    lines(load, '[load]', (l) => {
      if (l.startsWith('STARTED ')) st.loadT0 = Number(l.slice(8));
      else if (l.startsWith('RESULT ')) st.load = JSON.parse(l.slice(7));
    });
    await waitFor(() => st.loadT0, 'load STARTED', 20000);
    await new Promise((r) => setTimeout(r, cfg.handoverAt));

    for (let i = 1; i <= cfg.restarts; i++) {
      const neu = server(`new${i}`, ['--succ', cfg.succ]);
      gens.push(neu);
      await waitFor(() => neu.pid, `new${i} READY`, 20000);
      const r = { handoverAt: Date.now() };
      if (neu.pid !== neu.child.pid) r.pidNote = `child.pid ${neu.child.pid} != process.pid ${neu.pid}`;
      cur.child.stdin.write(`HANDOVER ${neu.pid}\n`);
      await waitFor(() => cur.token, 'TOKEN', 10000);
      neu.child.stdin.write(`TOKEN ${cur.token}\n`);
      await waitFor(() => neu.accepting, 'ACCEPTING', 10000);
      r.releaseAt = Date.now();
      cur.child.stdin.write('RELEASE\n');
      st.restarts.push(r);
      cur = neu;
      if (i < cfg.restarts) await new Promise((res) => setTimeout(res, cfg.gap));
    }
    await waitFor(() => st.load, 'load RESULT', cfg.duration + 30000);
    for (const g of gens.slice(0, -1)) {
      await waitFor(() => g.exit !== undefined, `${g.gen} exit`, 15000).catch((e) => (g.note = e.message));
    }
    cur.child.stdin.write('QUIT\n');
    await waitFor(() => cur.exit !== undefined, `${cur.gen} exit`, 15000).catch((e) => (cur.note = e.message));
  } finally {
    kill();
  }
  const L = st.load;
  const lost = Object.values(L.lost).reduce((a, b) => a + b, 0);
  return {
    approach,
    succ: cfg.succ,
    connections: L.started,
    ok: L.ok,
    lost,
    lostKinds: L.lost,
    lostAtMs: L.lostAt.map(([k, t]) => `${k}@${t - L.t0}`),
    restarts: st.restarts.map((r) => ({ handoverAtMs: r.handoverAt - L.t0, releaseAtMs: r.releaseAt - L.t0 })),
    byPid: L.byPid,
    firstAt: L.firstAt,
    lastAt: L.lastAt,
    gens: gens.map((g) => ({ gen: g.gen, pid: g.pid, served: g.stats && g.stats.served, afterRelease: g.stats && g.stats.servedAfterRelease,
      viaCtl: g.stats && g.stats.viaCtl, viaLibuv: g.stats && g.stats.viaLibuv, exit: g.exit, notes: [...((g.stats && g.stats.notes) || []), ...(g.note ? [g.note] : [])] })),
    notes: st.restarts.map((r) => r.pidNote).filter(Boolean),
  };
}

async function orchestrator() {
  const cfg = {
    clients: Number(opt('clients', '32')),
    duration: Number(opt('duration', '5000')),
    max: Number(opt('max', '4000')),
    handoverAt: Number(opt('handover-at', '1000')),
    succ: opt('succ', 'libuv'),
    restarts: Number(opt('restarts', '1')),
    gap: Number(opt('gap', '700')),
  };
  const runs = Number(opt('runs', '5'));
  const which = opt('approach', 'naive');
  const list = which === 'all' ? Object.keys(APPROACHES) : which.split(',');
  const verbose = argv.includes('--verbose');
  const summary = [];
  for (const approach of list) {
    if (!APPROACHES[approach]) throw new Error(`unknown approach ${approach}`);
    const per = [];
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(approach, cfg);
      per.push(r);
      const gensText = r.gens
        .map((g) => `${g.gen} served ${g.served}${g.afterRelease ? ` (${g.afterRelease} after release)` : ''}${g.notes.length ? ` ${JSON.stringify(g.notes)}` : ''}`)
        .join(', ');
      console.log(
        `${approach} (succ ${cfg.succ}) run ${i + 1}/${runs}: connections ${r.connections}, ok ${r.ok}, lost ${r.lost}` +
          `${r.lost ? ` ${JSON.stringify(r.lostKinds)} at ${JSON.stringify(r.lostAtMs.slice(0, 12))}` : ''};` +
          ` release at ${r.restarts.map((x) => x.releaseAtMs).join('/')} ms; ${gensText}${r.notes.length ? ` ${JSON.stringify(r.notes)}` : ''}`,
      );
      if (verbose) console.log(JSON.stringify(r));
    }
    const s = {
      approach,
      succ: cfg.succ,
      restartsPerRun: cfg.restarts,
      runs,
      connections: per.reduce((a, r) => a + r.connections, 0),
      lost: per.reduce((a, r) => a + r.lost, 0),
      lostPerRun: per.map((r) => r.lost),
    };
    summary.push(s);
    console.log(`SUMMARY ${JSON.stringify(s)}`);
  }
  process.exit(summary.every((s) => s.lost === 0) ? 0 : 1);
}

if (ROLE === 'server') serverRole();
else if (ROLE === 'load') loadRole();
else
  orchestrator().catch((e) => {
    console.log(`FAILED: ${e && e.stack}`);
    process.exit(2);
  });
