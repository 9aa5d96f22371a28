'use strict';
/** The demo's real clients: Node's http for requests, the `ws` package for the WebSocket. */
const http = require('node:http');
const { WebSocket } = require('ws');

/** One GET; resolves with the status, the body and who answered. */
function get(url, agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          body: body.trim(),
          worker: res.headers['x-worker'],
          pid: Number(res.headers['x-worker-pid']),
          reusedSocket: req.reusedSocket,
          localPort: req.socket.localPort,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}

/**
 * Opens a WebSocket, sends `count` messages {"seq": 1..count}, one every `intervalMs`, and
 * resolves once every echo is in (or rejects after `timeoutMs`). Every 'close', 'error' and
 * 'open' is recorded; the socket stays open for the caller to close.
 */
function exchange(url, { count, intervalMs, timeoutMs = 30_000, onOpen = () => {} }) {
  const ws = new WebSocket(url);
  const run = { ws, echoes: [], events: [], opens: 0, unexpectedResponse: null };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let timer;
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(Object.assign(new Error(`only ${run.echoes.length} of ${count} echoes within ${timeoutMs / 1000} s`), { run }));
    }, timeoutMs);
    ws.on('unexpected-response', (_req, res) => {
      run.unexpectedResponse = res.statusCode;
      clearTimeout(deadline);
      reject(Object.assign(new Error(`the upgrade was answered with HTTP ${res.statusCode}`), { run }));
    });
    ws.on('open', () => {
      run.opens++;
      onOpen(ws);
      let seq = 0;
      const sendNext = () => {
        seq++;
        ws.send(JSON.stringify({ seq }));
        if (seq === count) clearInterval(timer);
      };
      sendNext();
      timer = setInterval(sendNext, intervalMs);
    });
    ws.on('message', (data) => {
      run.echoes.push({ ...JSON.parse(data.toString()), at: Date.now() - started });
      if (run.echoes.length === count) {
        clearTimeout(deadline);
        resolve(run);
      }
    });
    ws.on('error', (err) => run.events.push({ type: 'error', message: err.message, at: Date.now() - started }));
    ws.on('close', (code) => {
      run.events.push({ type: 'close', code, at: Date.now() - started });
      clearInterval(timer);
      if (run.echoes.length < count) {
        clearTimeout(deadline);
        reject(Object.assign(new Error(`the WebSocket closed (code ${code}) after ${run.echoes.length} of ${count} echoes`), { run }));
      }
    });
  });
}

/**
 * Checks a run's echoes: every seq once, in order, and the running count n equal to seq (so the
 * state moved with the socket). Returns the problems (none: []) and the stretches per worker.
 */
function checkEchoes(echoes, count) {
  const problems = [];
  if (echoes.length !== count) problems.push(`${echoes.length} echoes instead of ${count}`);
  echoes.forEach((e, i) => {
    if (problems.length < 5 && e.seq !== i + 1) problems.push(`echo #${i + 1} is for message ${e.seq}`);
    if (problems.length < 5 && e.n !== i + 1) problems.push(`echo #${i + 1} carries count ${e.n}`);
  });
  const stretches = [];
  for (const e of echoes) {
    const last = stretches[stretches.length - 1];
    if (last && last.pid === e.pid) last.to = e.seq;
    else stretches.push({ worker: e.worker, pid: e.pid, from: e.seq, to: e.seq });
  }
  let longestGap = 0;
  for (let i = 1; i < echoes.length; i++) longestGap = Math.max(longestGap, echoes[i].at - echoes[i - 1].at);
  return { problems, stretches, longestGap };
}

/** Closes the WebSocket normally; resolves with the close code. */
function close(ws, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(null);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no closing handshake within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    ws.close(1000, 'done');
  });
}

module.exports = { get, exchange, checkEchoes, close };
