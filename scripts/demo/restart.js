'use strict';
/**
 * The last part of `npm run demo`: a zero-downtime restart. Server v1 (scripts/demo/restart-server.js)
 * listens with a HandoverServer; client loops keep sending requests; v2 starts knowing only the
 * channel name, v1 hands it the listening socket and exits once its last connection is done; then
 * v2 hands it to v3 the same way. Every request must be answered.
 */
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');

const HOST = '127.0.0.1';
const LOOPS = 16;
const RESTARTS = 2;
const SETTLE_MS = 1500; // load on each version before (and after) each restart
const REQUEST_TIMEOUT_MS = 5000;

/**
 * Starts server version `version` on `channel`. Its JSON lines are queued for next(type); its exit
 * is a failure unless expectExit was set.
 */
function startServer({ channel, version, onFailure }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'restart-server.js'), channel, String(version)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tag = `[server v${version} ${child.pid}]`;
  const queue = [];
  const waiters = [];
  const server = {
    version,
    child,
    pid: child.pid,
    tag,
    exited: false,
    expectExit: false,
    exitCode: null,
    exit: null,
    /** Resolves with its next message of this type. */
    next(type) {
      const i = queue.findIndex((m) => m.type === type);
      if (i !== -1) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ type, resolve }));
    },
    /** 'handover' or 'stop': either way it exits by itself afterwards. */
    command(cmd) {
      server.expectExit = true;
      if (!server.exited) child.stdin.write(`${JSON.stringify({ cmd })}\n`);
    },
  };
  child.stdin.on('error', () => {}); // it may be gone already; 'exit' says so
  child.on('error', (err) => onFailure(`could not start server v${version}: ${err.message}`));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      console.log(`${tag} ${line}`); // a stray console.log: show it as it is
      return;
    }
    if (message.type === 'error') onFailure(`server v${version} reported: ${message.text}`);
    if (message.type === 'log') console.log(`${tag} ${message.text}`);
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i !== -1) waiters.splice(i, 1)[0].resolve(message);
    else queue.push(message);
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => console.log(`${tag} (stderr) ${line}`));
  server.exit = new Promise((resolve) => {
    // 'close', not 'exit': by then every line it wrote has been read.
    child.on('close', (code, signal) => {
      server.exited = true;
      server.exitCode = code;
      if (!server.expectExit) onFailure(`server v${version} exited unexpectedly (code ${code}${signal ? `, signal ${signal}` : ''})`);
      resolve(code);
    });
  });
  return server;
}

/** One GET on a new connection (no keep-alive); resolves with what happened, never rejects. */
function request(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: body.trim() }));
      res.on('error', (err) => resolve({ error: err }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'TIMEOUT' })));
    req.on('error', (err) => resolve({ error: err }));
  });
}

/** `count` loops, each sending one request after the other until stop(). */
function startLoad(url, count) {
  const stats = { total: 0, byVersion: {}, byPid: {}, refused: 0, reset: 0, unanswered: 0, failures: [] };
  let running = true;
  const loop = async () => {
    while (running) {
      stats.total++;
      const outcome = await request(url);
      const m = outcome.error ? null : /^version (\d+) \(pid (\d+)\)$/.exec(outcome.body);
      if (outcome.status === 200 && m) {
        stats.byVersion[m[1]] = (stats.byVersion[m[1]] || 0) + 1;
        stats.byPid[m[2]] = (stats.byPid[m[2]] || 0) + 1;
        continue;
      }
      const code = outcome.error && outcome.error.code;
      if (code === 'ECONNREFUSED') stats.refused++;
      else if (code === 'ECONNRESET' || code === 'EPIPE') stats.reset++;
      else stats.unanswered++;
      stats.failures.push(outcome.error ? `${code || 'error'}: ${outcome.error.message}` : `HTTP ${outcome.status} "${outcome.body}"`);
    }
  };
  const loops = Array.from({ length: count }, loop);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the restart part. `servers` (an array) receives every server process started, so that the
 * caller can end them if something fails. `check(ok, text)` fails the demo when ok is false.
 */
async function runRestart({ say, check, setStep, servers, onFailure }) {
  const channel = `socket-handoff-demo-${process.pid}-restart`;
  const start = (version) => {
    const server = startServer({ channel, version, onFailure });
    servers.push(server);
    return server;
  };

  setStep('starting server v1');
  const generations = [start(1)];
  const ready = await generations[0].next('ready');
  check(ready.pid === generations[0].pid, `server v1 says its pid is ${ready.pid}, but it was started as ${generations[0].pid}`);
  const url = `http://${HOST}:${ready.port}/`;
  say(generations[0].tag, `listening on ${HOST}:${ready.port} with a HandoverServer; answers GET / with "version 1 (pid ${ready.pid})"`);

  const load = startLoad(url, LOOPS);
  say('[client]', `${LOOPS} loops of GET ${url}, each on a new connection, run from now until the end`);
  await pause(SETTLE_MS);

  for (let version = 2; version <= RESTARTS + 1; version++) {
    const current = generations[generations.length - 1];
    setStep(`starting server v${version}`);
    const successor = start(version);
    generations.push(successor);
    const up = await successor.next('ready');
    say(successor.tag, `started; it knows only the channel name "${channel}" and waits there for the listener`);

    setStep(`handing the listener from v${current.version} to v${version}`);
    current.command('handover');
    const handed = await current.next('handed-over');
    const serving = await successor.next('serving');
    check(handed.to === successor.pid, `server v${current.version} handed its listener to pid ${handed.to}, not to v${version} (pid ${successor.pid})`);
    check(serving.from === current.pid && serving.port === ready.port, `server v${version} got a listener from pid ${serving.from} on port ${serving.port}`);
    say(current.tag, `handed its listener to v${version} (pid ${successor.pid}); exiting after its last connection`);
    say(successor.tag, `holds the listener on ${HOST}:${serving.port} now and answers "version ${version} (pid ${up.pid})"`);

    setStep(`waiting for server v${current.version} to finish its last connection`);
    const code = await current.exit;
    check(code === 0, `server v${current.version} exited with code ${code}`);
    const exiting = await current.next('exiting');
    const after = exiting.answeredAfter
      ? `the last ${exiting.answeredAfter} of them after the hand-over, on connections it had accepted before`
      : 'none left to answer after the hand-over';
    say(current.tag, `answered ${exiting.answered} requests, ${after}; exited with code 0`);
    setStep(`serving with v${version}`);
    await pause(SETTLE_MS);
  }

  setStep('stopping the client loops');
  const stats = await load.stop();
  setStep('counting the answers');
  const answered = Object.values(stats.byVersion).reduce((a, b) => a + b, 0);
  const perVersion = generations.map((g) => `v${g.version}: ${stats.byVersion[g.version] || 0}`).join(', ');
  say(
    '[client]',
    `${stats.total} requests across ${RESTARTS} restarts: ${answered} answered (${perVersion}), ` +
      `${stats.refused} refused, ${stats.reset} reset, ${stats.unanswered} unanswered`,
  );
  if (stats.failures.length > 0) {
    const kinds = new Map();
    for (const f of stats.failures) kinds.set(f, (kinds.get(f) || 0) + 1);
    for (const [what, n] of [...kinds].slice(0, 5)) say('[client]', `  ${n} x ${what}`);
  }
  check(stats.failures.length === 0 && answered === stats.total, `${stats.total - answered} of ${stats.total} requests were not answered`);
  for (const g of generations) {
    check((stats.byVersion[g.version] || 0) > 0, `server v${g.version} answered no request`);
    check((stats.byVersion[g.version] || 0) === (stats.byPid[g.pid] || 0), `the answers that say "version ${g.version}" do not all come from pid ${g.pid}`);
  }

  setStep('stopping the last server');
  const last = generations[generations.length - 1];
  last.command('stop');
  const code = await last.exit;
  check(code === 0, `server v${last.version} exited with code ${code}`);
  say(last.tag, 'asked to stop: closed its listener and exited with code 0');
}

module.exports = { runRestart };
