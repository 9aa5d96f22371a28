'use strict';
/**
 * The last part of `npm run demo`: zero-downtime upgrades with Upgrader. Server v1
 * (scripts/demo/restart-server.js) starts, finds no predecessor and listens; client loops keep
 * sending requests; `POST /upgrade` makes the serving version call upgrader.upgrade(), which starts
 * the next version: it inherits the listener, becomes ready, and the old one retires, drains and
 * exits. Twice. Every request must be answered.
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
 * Starts server version 1 of the service `name`. Every later version is started by the previous
 * one's upgrader.upgrade(), detached, and inherits its stdout: the JSON lines of all versions come
 * on this one pipe, each with its pid and version. Returns the service: next(type, version) resolves
 * with that version's next message of that type; generations lists the processes seen.
 */
function startService({ name, onFailure }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'restart-server.js'), name, '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const queue = [];
  const waiters = [];
  const generations = new Map(); // version -> { version, pid, tag, exited, child: { kill } }
  const generation = (version, pid) => {
    if (!generations.has(version)) {
      generations.set(version, {
        version,
        pid,
        tag: `[server v${version} ${pid}]`,
        exited: false,
        expectExit: false,
        // Versions after the first are not our children: end them by pid if the demo fails.
        child: { kill: () => process.kill(pid) },
      });
    }
    return generations.get(version);
  };
  generation(1, child.pid).child = child;
  child.on('error', (err) => onFailure(`could not start server v1: ${err.message}`));
  child.on('exit', (code, signal) => {
    const v1 = generations.get(1);
    v1.exited = true;
    if (!v1.expectExit) onFailure(`server v1 exited unexpectedly (code ${code}${signal ? `, signal ${signal}` : ''})`);
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      console.log(`[server] ${line}`); // a stray console.log: show it as it is
      return;
    }
    if (message.type === 'error') onFailure(`a server version reported: ${message.text}`);
    if (message.version !== undefined) {
      const g = generation(message.version, message.pid);
      if (message.type === 'log') console.log(`${g.tag} ${message.text}`);
      if (message.type === 'exiting') g.exited = true;
    }
    const i = waiters.findIndex((w) => w.type === message.type && w.version === message.version);
    if (i !== -1) waiters.splice(i, 1)[0].resolve(message);
    else queue.push(message);
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => console.log(`[server] (stderr) ${line}`));
  return {
    generations,
    generation: (version) => generations.get(version),
    next(type, version) {
      const i = queue.findIndex((m) => m.type === type && m.version === version);
      if (i !== -1) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ type, version, resolve }));
    },
  };
}

/** POST to the service; whichever version serves answers. Resolves with the parsed JSON body. */
function post(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`not JSON: ${body}`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until process `pid` is gone (a version started by upgrade() is not our child). */
async function gone(pid) {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await pause(50);
  }
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
 * Runs the restart part. `servers` (an array) receives every server process seen, so that the
 * caller can end them if something fails. `check(ok, text)` fails the demo when ok is false.
 */
async function runRestart({ say, check, setStep, servers, onFailure }) {
  const name = `socket-handoff-demo-${process.pid}`;
  setStep('starting server v1');
  const service = startService({ name, onFailure });
  const ready = await service.next('ready', 1);
  const v1 = service.generation(1);
  servers.push(v1);
  check(ready.pid === v1.pid && ready.inherited === false, `server v1 says it is pid ${ready.pid} (inherited: ${ready.inherited}), but it was started as ${v1.pid}`);
  const url = `http://${HOST}:${ready.port}/`;
  say(v1.tag, `Upgrader.start({ name: "${name}" }): no predecessor, so listen('web') made a HandoverServer on ${HOST}:${ready.port}; ready`);

  const load = startLoad(url, LOOPS);
  say('[client]', `${LOOPS} loops of GET ${url}, each on a new connection, run from now until the end`);
  await pause(SETTLE_MS);

  for (let version = 2; version <= RESTARTS + 1; version++) {
    const current = service.generation(version - 1);
    setStep(`upgrading v${current.version} to v${version}`);
    current.expectExit = true;
    say('[demo]', `POST ${url}upgrade: v${current.version} calls upgrader.upgrade(), which starts v${version} detached`);
    const answer = await post(`${url}upgrade`);
    check(answer.to !== undefined, `upgrade() in v${current.version} failed: ${answer.error}: ${answer.message}`);
    const up = await service.next('ready', version);
    const successor = service.generation(version);
    servers.push(successor);
    check(up.pid === answer.to && up.port === ready.port && up.inherited === true, `v${version} (pid ${up.pid}) should serve port ${ready.port} with the listener it inherited from v${current.version}; got ${JSON.stringify(up)}`);
    await service.next('retired', current.version);
    say(successor.tag, `inherited 'web' from v${current.version}, accepts since its ready(); answers "version ${version} (pid ${up.pid})"`);
    say(current.tag, `retired: stopped accepting and closed its copy of the listener (nothing was pending in it); upgrade() resolved with ${answer.to}`);

    setStep(`waiting for server v${current.version} to drain and exit`);
    const exiting = await service.next('exiting', current.version);
    await gone(current.pid);
    current.exited = true;
    const after = exiting.answeredAfter
      ? `the last ${exiting.answeredAfter} of them after it retired, on connections it had accepted before`
      : 'none left to answer after it retired';
    say(current.tag, `'drained': answered ${exiting.answered} requests, ${after}; exited`);
    setStep(`serving with v${version}`);
    await pause(SETTLE_MS);
  }

  setStep('stopping the client loops');
  const stats = await load.stop();
  setStep('counting the answers');
  const all = [...service.generations.values()];
  const answered = Object.values(stats.byVersion).reduce((a, b) => a + b, 0);
  const perVersion = all.map((g) => `v${g.version}: ${stats.byVersion[g.version] || 0}`).join(', ');
  say(
    '[client]',
    `${stats.total} requests across ${RESTARTS} upgrades: ${answered} answered (${perVersion}), ` +
      `${stats.refused} refused, ${stats.reset} reset, ${stats.unanswered} unanswered`,
  );
  if (stats.failures.length > 0) {
    const kinds = new Map();
    for (const f of stats.failures) kinds.set(f, (kinds.get(f) || 0) + 1);
    for (const [what, n] of [...kinds].slice(0, 5)) say('[client]', `  ${n} x ${what}`);
  }
  check(stats.failures.length === 0 && answered === stats.total, `${stats.total - answered} of ${stats.total} requests were not answered`);
  for (const g of all) {
    check((stats.byVersion[g.version] || 0) > 0, `server v${g.version} answered no request`);
    check((stats.byVersion[g.version] || 0) === (stats.byPid[g.pid] || 0), `the answers that say "version ${g.version}" do not all come from pid ${g.pid}`);
  }

  setStep('stopping the last server');
  const last = all[all.length - 1];
  last.expectExit = true;
  const stopped = await post(`${url}stop`);
  check(stopped.stopping === last.pid, `POST /stop was answered by pid ${stopped.stopping}, not by v${last.version} (pid ${last.pid})`);
  await service.next('exiting', last.version);
  await gone(last.pid);
  last.exited = true;
  say(last.tag, 'POST /stop: upgrader.close() gave the name up and closed the listener; exited');
}

module.exports = { runRestart };
