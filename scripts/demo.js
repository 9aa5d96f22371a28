'use strict';
/**
 * `npm run demo`: socket-handoff doing the real thing, in one short transcript.
 *
 * A dispatcher (this process) accepts TCP connections, reads each HTTP request head and hands the
 * connection, head included, to one of two worker processes over the hand-off channel
 * (openSender/openReceiver). The workers (scripts/demo/worker.js) are separate processes that know
 * only their channel names; they answer HTTP with their pid. Then a WebSocket client (the `ws`
 * package) talks to worker A, and A moves the live WebSocket, with the bytes it had read but not
 * parsed, to worker B, which resumes it: the client sees one unbroken sequence and no reconnect.
 * Then a worker dies and the dispatcher hands its next connection to the other one instead; with
 * no worker left, the dispatcher serves the connection that came back itself.
 * Last, zero-downtime upgrades (scripts/demo/restart.js): server v1 runs with an Upgrader while
 * client loops keep sending requests; upgrader.upgrade() starts v2, which inherits the listener
 * and becomes ready, and v1 retires, drains and exits; then v2 upgrades to v3 the same way. Every
 * request must be answered: none refused, none reset.
 *
 *   node scripts/demo.js                 drive it with real clients; exit 0 when every check passed, 1 otherwise
 *   node scripts/demo.js --serve [--port N]   keep it running on 127.0.0.1:N (default 8080) for curl or a
 *                                        browser (the dispatcher and workers; not the restart part);
 *                                        Ctrl-C stops everything
 *
 * It runs natively on Windows and Linux. Elsewhere it re-runs itself under Wine (scripts/win-node);
 * on Linux, SOCKET_HANDOFF_UNDER_WINE=1 does that too, to run the Windows path from Linux.
 */
const USAGE = 'usage: node scripts/demo.js [--serve [--port N]]';

function parseArgs(argv) {
  const options = { serve: false, port: 8080 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--serve') options.serve = true;
    else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg === '--port' ? argv[++i] : arg.slice('--port='.length);
      options.port = Number(value);
      if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
        console.error(`--port: a port number from 1 to 65535, not ${JSON.stringify(value)}\n${USAGE}`);
        process.exit(64);
      }
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
      process.exit(64);
    }
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
require('./on-windows').ensureChannelPlatform(__filename);
const { describeError } = require('./demo/child-io');

const path = require('node:path');

const TIMEOUT_MS = 60_000;
const HOST = '127.0.0.1';
const WORKERS = ['A', 'B'];
const MESSAGES = 100;
const INTERVAL_MS = 20;
const MIGRATE_AT = 50;

const tag = `[dispatcher ${process.pid}]`;
const say = (who, text) => console.log(`${who} ${text}`);

let workers = [];
let servers = []; // the restart part's server processes
let finished = false;
let step = 'starting';


function killWorkers() {
  for (const w of [...workers, ...servers]) {
    w.expectExit = true;
    if (!w.exited) {
      try {
        w.child.kill();
      } catch {
        // already gone
      }
    }
  }
}

/** Prints one clear line, stops the workers, exits 1. */
function fail(text) {
  if (finished) return;
  finished = true;
  console.log(`[demo] FAILED while ${step}: ${text}`);
  killWorkers();
  process.exit(1);
}

function check(ok, text) {
  if (!ok) fail(text);
}

process.on('uncaughtException', (err) => fail(`unexpected error: ${describeError(err)}`));
process.on('unhandledRejection', (err) => fail(`unexpected error: ${describeError(err)}`));
process.on('exit', (code) => {
  killWorkers();
  // Only reachable when the event loop ran dry with a step still waiting: never report success then.
  if (!finished && code === 0 && !options.serve) {
    console.log(`[demo] FAILED while ${step}: the demo stopped before finishing`);
    process.exitCode = 1;
  }
});

let dist;
try {
  dist = require(path.join(__dirname, '..', 'dist'));
} catch (err) {
  fail(`could not load the package from dist/ (${describeError(err)}); build it first: npm run build`);
}
if (typeof dist.sendWebSocket !== 'function') fail('dist/ is out of date (no sendWebSocket); build it first: npm run build');

const { createDispatcher } = require('./demo/dispatcher');
const { startWorker } = require('./demo/workers');
const clients = require('./demo/clients');
const { runRestart } = require('./demo/restart');

/** Starts the workers and the dispatcher; resolves once every worker receives on its channel. */
async function start(port, onEvent) {
  const channel = `socket-handoff-demo-${process.pid}`;
  step = `listening on ${HOST}:${port}`;
  const dispatcher = createDispatcher({ channel, workers: WORKERS, log: (text) => say(tag, text) });
  const boundPort = await dispatcher.listen(port, HOST); // first, so that a port in use fails at once

  step = 'starting the workers';
  workers = WORKERS.map((name) => startWorker({ channel, name, peers: WORKERS, say, onEvent, onFailure: fail }));
  say(tag, `started workers ${workers.map((w) => `${w.name} (pid ${w.pid})`).join(' and ')}; each knows only the channel name "${channel}"`);
  await Promise.all(workers.map((w) => w.ready));
  step = 'connecting to the workers';
  const connected = await dispatcher.connectAll();
  for (const { name, pid } of connected) {
    const w = workers.find((x) => x.name === name);
    check(pid === w.pid, `the channel of worker ${name} is served by pid ${pid}, not by ${w.pid}`);
  }
  say(tag, `listening on ${HOST}:${boundPort}; hands each connection, with the request head it read, to ${WORKERS.join(', ')} in turn`);
  return { dispatcher, port: boundPort };
}

/** Polls `find` until it returns something, or `ms` passed (then undefined). */
async function waitFor(find, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
    const found = find();
    if (found) return found;
  }
  return find();
}

async function drive() {
  console.log(
    `socket-handoff demo (Node ${process.version}, ${process.platform} ${process.arch}): ` +
      'a dispatcher hands connections to worker processes, a live WebSocket moves between them, ' +
      'and a server upgrades itself twice (Upgrader) under load without losing a request',
  );
  const events = [];
  const { dispatcher, port } = await start(0, (worker, message) => events.push({ worker: worker.name, ...message }));
  const [A, B] = workers;
  const base = `http://${HOST}:${port}`;

  // 1. Plain requests, one connection each: round-robin.
  for (const expected of [A, B, A]) {
    step = 'sending GET /';
    const res = await clients.get(`${base}/`);
    say('[client]', `GET / -> ${res.status} ${res.body}`);
    check(res.status === 200, `GET / answered ${res.status}`);
    check(res.worker === expected.name && res.pid === expected.pid, `expected worker ${expected.name} (pid ${expected.pid}) to answer`);
  }

  // 2. Keep-alive: the second request travels on the connection the worker already holds.
  step = 'sending two requests on one kept-alive connection';
  const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: 1 });
  const first = await clients.get(`${base}/`, agent);
  const second = await clients.get(`${base}/?again`, agent);
  agent.destroy();
  say('[client]', `GET / and GET /?again on one kept-alive connection -> ${second.body}`);
  check(first.status === 200 && second.status === 200, `the kept-alive requests answered ${first.status} and ${second.status}`);
  check(second.reusedSocket === true && second.localPort === first.localPort, 'the second request did not reuse the connection');
  check(first.pid === B.pid && second.pid === B.pid, `both kept-alive requests should reach worker B (pid ${B.pid}); got pids ${first.pid} and ${second.pid}`);
  check(/request 2 on connection/.test(second.body), `worker B did not see the second request on the same connection: "${second.body}"`);

  // 3. The WebSocket: A answers, then moves it to B mid-stream.
  step = 'exchanging WebSocket messages';
  const url = `ws://${HOST}:${port}/echo?migrate-at=${MIGRATE_AT}`;
  const run = await clients.exchange(url, {
    count: MESSAGES,
    intervalMs: INTERVAL_MS,
    onOpen: () => say('[client]', `WebSocket ${url} open (the ws package); sending ${MESSAGES} numbered messages, one every ${INTERVAL_MS} ms`),
  });
  const { problems, stretches, longestGap } = clients.checkEchoes(run.echoes, MESSAGES);
  check(problems.length === 0, `the echoes are not one unbroken sequence: ${problems.join('; ')}`);
  say('[client]', `${MESSAGES} echoes, in order, none missing or repeated: ${stretches.map((s) => `${s.from}-${s.to} from worker ${s.worker} (pid ${s.pid})`).join(', ')}`);
  check(run.events.length === 0 && run.opens === 1, `the client saw ${JSON.stringify(run.events)} and ${run.opens} 'open'`);
  say('[client]', `no 'close', no 'error', one 'open' (no reconnect); longest wait between two echoes: ${longestGap} ms`);
  const moving = events.find((e) => e.event === 'ws-moving');
  const moved = events.find((e) => e.event === 'ws-moved');
  const resumed = events.find((e) => e.event === 'ws-resumed');
  // A stops parsing after echo 50; a message that came in the same read as message 50 is still A's.
  check(moving && moving.worker === 'A' && moving.to === 'B' && moving.n >= MIGRATE_AT, 'worker A did not report handing the WebSocket to B');
  check(moved && moved.worker === 'A', 'worker A did not report that B adopted the WebSocket');
  check(resumed && resumed.worker === 'B' && resumed.n === moving.n && resumed.headBytes === moving.headBytes, 'worker B did not resume where A stopped');
  check(stretches.length === 2, `expected the echoes from 2 workers in turn, got ${stretches.length} stretches`);
  check(stretches[0].pid === A.pid && stretches[0].to === moving.n, `echoes 1-${moving.n} should come from worker A (pid ${A.pid})`);
  check(stretches[1].pid === B.pid, `echoes after ${moving.n} should come from worker B (pid ${B.pid})`);

  step = 'closing the WebSocket';
  const code = await clients.close(run.ws);
  say('[client]', `closed the WebSocket; worker B answered the closing handshake (code ${code})`);
  check(code === 1000, `close code ${code}, not 1000`);
  const closedAtB = await waitFor(() => events.find((e) => e.event === 'ws-close'), 3000);
  check(closedAtB && closedAtB.worker === 'B' && closedAtB.code === 1000 && closedAtB.n === MESSAGES, `worker B did not see the WebSocket close after ${MESSAGES} echoes`);

  // 4. A worker dies: its next connection comes back to the dispatcher intact and goes to the other.
  step = 'stopping worker B the hard way';
  say(tag, `killing worker B (pid ${B.pid})`);
  await B.kill();
  step = 'sending GET / with worker B gone';
  const res = await clients.get(`${base}/`);
  say('[client]', `GET / -> ${res.status} ${res.body}`);
  check(res.status === 200 && res.pid === A.pid, `with worker B gone, worker A (pid ${A.pid}) should have answered`);

  step = 'stopping';
  say(tag, 'asking worker A to stop');
  const exitCode = await A.stop();
  check(exitCode === 0, `worker A exited with code ${exitCode}`);

  // 4b. No worker at all: the connection comes back and the dispatcher serves it itself.
  step = 'sending GET / with no worker left';
  const fallback = await clients.get(`${base}/`);
  say('[client]', `GET / -> ${fallback.status} ${fallback.body}`);
  check(fallback.status === 200 && fallback.worker === 'dispatcher' && fallback.pid === process.pid, 'with no worker left, the dispatcher itself should have answered');
  check(dispatcher.servedLocally === 1, `the dispatcher served ${dispatcher.servedLocally} connections itself, not 1`);
  await dispatcher.close();
  say(tag, `worker A exited with code 0; the dispatcher closed its listener and its channels`);

  // 5. Zero-downtime upgrades with Upgrader: v1 -> v2 -> v3 under continuous load.
  await runRestart({ say, check, setStep: (text) => (step = text), servers, onFailure: fail });
  finished = true;
  say('[demo]', 'done: every check passed');
}

async function serve() {
  const startup = setTimeout(() => fail(`not serving after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
  const { dispatcher, port } = await start(options.port, () => {});
  clearTimeout(startup);
  const base = `http://${HOST}:${port}`;
  step = 'serving';
  const tries = [
    [`curl ${base}/`, 'again and again: the workers take turns'],
    [`curl ${base}/ ${base}/?again`, 'two requests on one kept-alive connection: one worker answers both'],
    [`a browser on ${base}/live`, 'a WebSocket that moves to the other worker every 10 messages'],
  ];
  const width = Math.max(...tries.map(([what]) => what.length));
  console.log(
    [
      `serving on ${base}/ with workers ${workers.map((w) => `${w.name} (pid ${w.pid})`).join(' and ')}. Try:`,
      ...tries.map(([what, why]) => `  ${what.padEnd(width)}   ${why}`),
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say(tag, 'stopping the workers and the dispatcher');
    await Promise.all(workers.map((w) => Promise.race([w.stop(), new Promise((r) => setTimeout(r, 3000))])));
    await Promise.race([dispatcher.close(), new Promise((r) => setTimeout(r, 2000))]);
    say(tag, 'stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGBREAK', stop);
}

if (options.serve) {
  serve().catch((err) => fail(describeError(err)));
} else {
  // unref: when everything is done the process exits by itself; the timer only fires if something hangs.
  setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS).unref();
  drive().catch((err) => fail(describeError(err)));
}
