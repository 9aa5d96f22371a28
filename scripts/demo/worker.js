'use strict';
/**
 * A worker process of `npm run demo`; started by scripts/demo.js, not meant to be run by hand.
 *
 *   node worker.js CHANNEL NAME PEER[,PEER...]
 *
 * It knows nothing but channel names: it receives connections on the channel CHANNEL-NAME, and
 * can hand a WebSocket on to a peer's channel CHANNEL-PEER. Connections arrive with the HTTP
 * request head the dispatcher already read; the worker answers them with Node's http server:
 *
 *   GET /                       a line of text naming this worker and its pid
 *   GET /live                   an HTML page with a WebSocket that moves between workers
 *   GET /echo (WebSocket)       echoes each message {"seq": n} as {"seq", "n", "worker", "pid"}, where
 *                               n counts the connection's echoes across every worker it visits.
 *                               ?migrate-at=50,80 or ?migrate-every=10: after those echoes, the
 *                               worker hands the live WebSocket to the next worker, which resumes it.
 *
 * To the parent, one JSON object per line on stdout: {"type": "ready" | "log" | "error" | "stopped", "text", ...}.
 * It stops on {"cmd": "stop"} on stdin, when stdin closes (the parent went away, even killed), or on Ctrl-C.
 */
const http = require('node:http');
const path = require('node:path');
const { WebSocket, WebSocketServer } = require('ws');

const [channel, myName, peerList = ''] = process.argv.slice(2);
const peers = peerList.split(',').filter(Boolean);
const { tell, die, describeError, onParentCommands } = require('./child-io');
const log = (text, extra = {}) => tell({ type: 'log', text, ...extra });

if (!channel || !myName) {
  console.error('usage: worker.js CHANNEL NAME PEER[,PEER...] (started by scripts/demo.js; run `npm run demo`)');
  process.exit(2);
}
process.on('uncaughtException', (err) => die(`unexpected error: ${describeError(err)}`));
process.on('unhandledRejection', (err) => die(`unexpected error: ${describeError(err)}`));

const { openReceiver, openSender, attachWebSocket, sendWebSocket } = require(path.join(__dirname, '..', '..', 'dist'));

const me = `worker ${myName} (pid ${process.pid})`;
const channelOf = (name) => `${channel}-${name}`;
let connections = 0;
const sockets = new Set(); // every adopted connection, to end them on stop
const webSockets = new Set();
let stopping = false;

// ---------------------------------------------------------------------------------------------
// HTTP: connections come from the receiver, never from a listener of this process.

const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const url = new URL(req.url, 'http://worker');
  req.socket.requests = (req.socket.requests || 0) + 1;
  if (url.pathname === '/') {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.setHeader('x-worker', myName);
    res.setHeader('x-worker-pid', String(process.pid));
    res.end(`${me} answers ${req.method} ${req.url}: request ${req.socket.requests} on connection #${req.socket.number} it was handed\n`);
  } else if (url.pathname === '/live') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(livePage());
  } else {
    res.statusCode = 404;
    res.end(`${me}: nothing at ${url.pathname}; try / or /live\n`);
  }
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://worker');
  if (url.pathname !== '/echo') {
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const plan = {
      at: (url.searchParams.get('migrate-at') || '').split(',').map(Number).filter((n) => n > 0),
      every: Number(url.searchParams.get('migrate-every')) || 0,
    };
    log(`accepted a WebSocket on connection #${socket.number} (${req.url})`, { event: 'ws-open' });
    echo(ws, { n: 0, plan, hops: 0 });
  });
});

/** Echoes each message with the connection's running count; moves the WebSocket when the plan says so. */
function echo(ws, state) {
  webSockets.add(ws);
  let moving = false;
  ws.on('message', (data) => {
    state.n++;
    let seq = null;
    try {
      seq = JSON.parse(data.toString()).seq ?? null;
    } catch {
      // not JSON: echo it anyway, without a seq
    }
    ws.send(JSON.stringify({ seq, n: state.n, worker: myName, pid: process.pid }));
    const due = state.plan.at.includes(state.n) || (state.plan.every > 0 && state.n % state.plan.every === 0);
    if (due && !moving && peers.length > 0 && !stopping) {
      moving = true;
      migrate(ws, state).finally(() => (moving = false));
    }
  });
  ws.on('error', (err) => log(`WebSocket error: ${describeError(err)}`));
  ws.on('close', (code) => {
    webSockets.delete(ws);
    if (!state.movedAway) log(`the WebSocket closed (code ${code}) after ${state.n} echoes`, { event: 'ws-close', code, n: state.n });
  });
}

/**
 * Hands the live WebSocket to the next worker. ws stops reading first (ws.pause()) while the
 * worker finishes what it is doing; here that is a short wait for the client's next message to
 * arrive, so that there are bytes Node read but ws did not parse, which travel along.
 */
async function migrate(ws, state) {
  const target = peers[(peers.indexOf(myName) + 1) % peers.length];
  ws.pause();
  const socket = ws._socket;
  for (let waited = 0; waited < 200 && socket.readableLength === 0; waited += 5) await new Promise((r) => setTimeout(r, 5));
  try {
    const sender = await senderTo(target);
    state.movedAway = true;
    await sendWebSocket(sender, ws, {
      // Called once ws is detached: no message is parsed here any more, so n is final.
      meta: (detached) => {
        const headBytes = detached.head.length;
        log(`handing the WebSocket to worker ${target} (pid ${sender.receiverPid}) after echo ${state.n}; the ${headBytes} bytes it read but did not parse go along`, {
          event: 'ws-moving',
          n: state.n,
          to: target,
          headBytes,
        });
        return { kind: 'websocket', n: state.n, plan: state.plan, hops: state.hops + 1, from: myName, headBytes, protocol: detached.protocol };
      },
    });
    log(`worker ${target} adopted the WebSocket; this process's copy is closed`, { event: 'ws-moved', n: state.n, to: target, quiet: true });
  } catch (err) {
    state.movedAway = false;
    log(`could not hand the WebSocket to worker ${target} (${describeError(err)}); it carries on here`, { event: 'ws-move-failed' });
    if (ws.readyState === WebSocket.OPEN) ws.resume();
  }
}

/** One sender per peer, opened on first use and dropped when its channel closes. */
const senders = new Map();
function senderTo(name) {
  let sender = senders.get(name);
  if (!sender) {
    sender = openSender(channelOf(name));
    senders.set(name, sender);
    sender.then(
      (s) => s.on('close', () => senders.get(name) === sender && senders.delete(name)),
      () => senders.get(name) === sender && senders.delete(name),
    );
  }
  return sender;
}

// ---------------------------------------------------------------------------------------------
// The channel: every connection arrives here.

function onSocket(socket, { meta, pid }) {
  if (stopping) {
    socket.destroy();
    return;
  }
  socket.number = ++connections;
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  if (meta && meta.kind === 'websocket') {
    const ws = attachWebSocket(WebSocket, socket, { protocol: meta.protocol });
    log(`resumed the WebSocket from worker ${meta.from} (pid ${pid}) at echo ${meta.n + 1}; ws parses the ${meta.headBytes} bytes ${meta.from} had read first`, {
      event: 'ws-resumed',
      n: meta.n,
      from: meta.from,
      headBytes: meta.headBytes,
    });
    echo(ws, { n: meta.n, plan: meta.plan, hops: meta.hops });
    return;
  }
  // An HTTP connection: the request head the dispatcher read comes first out of the socket.
  // http.Server's own sockets allow half-open connections, so that a client that half-closes after
  // its request still gets the answer; an adopted socket does not by default.
  socket.allowHalfOpen = true;
  server.emit('connection', socket);
}

function stop(reason) {
  if (stopping) return;
  stopping = true;
  for (const ws of webSockets) ws.close(1001, 'worker stopping');
  for (const s of senders.values()) s.then((sender) => sender.close(), () => undefined);
  server.close();
  server.closeAllConnections?.();
  setTimeout(() => {
    for (const socket of sockets) socket.destroy();
  }, 500).unref();
  Promise.resolve(receiver && receiver.close()).then(() => {
    process.stdout.write(`${JSON.stringify({ type: 'stopped', text: `stopped (${reason})` })}\n`, () => process.exit(0));
  });
}

let receiver;
openReceiver(channelOf(myName), onSocket).then(
  (r) => {
    receiver = r;
    receiver.on('clientError', (err, pid) => log(`refused a sender${pid ? ` (pid ${pid})` : ''}: ${describeError(err)}`));
    receiver.on('error', (err) => log(`receiver error: ${describeError(err)}`));
    tell({ type: 'ready', name: myName, pid: process.pid, endpoint: receiver.endpoint, text: `ready: receiving connections on ${receiver.endpoint}` });
    if (stopping) receiver.close();
  },
  (err) => die(`openReceiver(${channelOf(myName)}) failed: ${describeError(err)}`),
);

onParentCommands(
  (message) => {
    if (message.cmd === 'stop') stop('asked to stop');
  },
  () => stop('the parent went away'),
);
process.on('SIGINT', () => stop('Ctrl-C'));

function livePage() {
  return `<!doctype html>
<meta charset="utf-8">
<title>socket-handoff: a WebSocket that moves</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em}li{font-family:monospace}</style>
<h1>A WebSocket that moves between worker processes</h1>
<p>This page was served by ${me}. The WebSocket below sends a message every half second; every
10 echoes the worker hands the live connection to the next worker. Watch the pid change while the
sequence goes on without a gap and without a reconnect.</p>
<p id="status">connecting…</p>
<ol id="log" reversed></ol>
<script>
const status = document.getElementById('status');
const list = document.getElementById('log');
const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/echo?migrate-every=10');
let seq = 0, lastPid = null;
ws.onopen = () => { status.textContent = 'open'; setInterval(() => ws.send(JSON.stringify({ seq: ++seq })), 500); };
ws.onclose = (e) => { status.textContent = 'closed (code ' + e.code + ')'; };
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  const li = document.createElement('li');
  li.textContent = 'echo ' + m.n + ' of message ' + m.seq + ' from worker ' + m.worker + ' (pid ' + m.pid + ')' + (lastPid !== null && lastPid !== m.pid ? '  <- moved' : '');
  lastPid = m.pid;
  list.prepend(li);
};
</script>
`;
}
