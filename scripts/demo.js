'use strict';
/**
 * `npm run demo`: the core of socket-handoff in one short transcript.
 *
 * The parent listens on 127.0.0.1, starts a worker process (scripts/demo-worker.js), exports its
 * listening socket for the worker's pid and sends the token over the worker's stdin. The worker
 * imports it and serves; the parent closes its own copy, then connects as a client a few times and
 * prints the worker's answers. Off Windows this re-runs itself under Wine (scripts/win-node).
 * Exits 0 when every step worked, 1 (with a FAILED line) otherwise.
 */
require('./on-windows').ensureWindows(__filename);

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');

const TIMEOUT_MS = 30_000;
const REQUESTS = 3;
const HOST = '127.0.0.1';

const FAMILIES = { 2: 'AF_INET', 23: 'AF_INET6' };
const TYPES = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM' };
const PROTOCOLS = { 6: 'IPPROTO_TCP', 17: 'IPPROTO_UDP' };
const named = (table, value) => (table[value] ? `${value} (${table[value]})` : String(value));

const parentTag = `[parent ${process.pid}]`;
let workerTag = '[worker]';
const say = (tag, text) => console.log(`${tag} ${text}`);

let worker; // ChildProcess
let workerClosed = false;
let workerStopping = false; // set once the parent asks the worker to stop; any earlier exit is a failure
let finished = false;
let step = 'starting';

/** Prints one clear line, stops the worker, exits 1. */
function fail(text) {
  if (finished) return;
  finished = true;
  console.log(`[demo] FAILED while ${step}: ${text}`);
  killWorker();
  process.exit(1);
}

function killWorker() {
  if (worker && !workerClosed && worker.exitCode === null && worker.signalCode === null) {
    try {
      worker.kill();
    } catch {
      // already gone
    }
  }
}

/** `CODE: message`, first line only (no stack traces in the transcript). */
function describeError(err) {
  let text = String(err);
  if (err && typeof err === 'object') text = err.code ? `${err.code}: ${err.message}` : String(err.message || err);
  return text.split(/\r?\n/)[0];
}

process.on('uncaughtException', (err) => fail(`unexpected error: ${describeError(err)}`));
process.on('unhandledRejection', (err) => fail(`unexpected error: ${describeError(err)}`));
process.on('exit', (code) => {
  killWorker();
  // Only reachable when the event loop ran dry with a step still waiting: never report success then.
  if (!finished && code === 0) {
    console.log(`[demo] FAILED while ${step}: the demo stopped before finishing`);
    process.exitCode = 1;
  }
});
// unref: when everything is done the process exits by itself; the timer only fires if something hangs.
setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS).unref();

let socketHandoff;
try {
  socketHandoff = require(path.join(__dirname, '..', 'dist'));
} catch (err) {
  fail(`could not load the package from dist/ (${describeError(err)}); build it first: npm run build`);
}
const { exportSocket, importSocket, decodeProtocolInfo } = socketHandoff;

// ---------------------------------------------------------------------------------------------
// The worker: line-based JSON both ways (see demo-worker.js); its lines are relayed here.

/** Messages from the worker not consumed yet, and the one waiter for the next message. */
const inbox = [];
let waiter;

function startWorker() {
  worker = spawn(process.execPath, [path.join(__dirname, 'demo-worker.js')], { stdio: ['pipe', 'pipe', 'pipe'] });
  worker.on('error', (err) => fail(`could not start the worker: ${describeError(err)}`));
  worker.stdin.on('error', (err) => fail(`could not write to the worker: ${describeError(err)}`));
  workerTag = `[worker ${worker.pid}]`;

  readline.createInterface({ input: worker.stdout }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      say(workerTag, line); // not ours (a stray console.log); show it as it is
      return;
    }
    if (message.type === 'error') fail(`the worker reported: ${message.text}`);
    if (message.text) say(workerTag, message.text);
    if (message.type === 'log') return; // shown above; nothing waits for it
    inbox.push(message);
    deliver();
  });
  readline.createInterface({ input: worker.stderr }).on('line', (line) => say(workerTag, `(stderr) ${line}`));

  worker.on('close', (code, signal) => {
    workerClosed = true;
    if (!workerStopping) fail(`the worker exited unexpectedly (code ${code}${signal ? `, signal ${signal}` : ''})`);
    inbox.push({ type: 'exit', code, signal });
    deliver();
  });
}

function deliver() {
  if (waiter && inbox.length > 0) {
    const resolve = waiter;
    waiter = undefined;
    resolve(inbox.shift());
  }
}

/** Resolves with the next worker message, which must be of `type`; anything else fails the demo. */
function expectFromWorker(type) {
  return new Promise((resolve) => {
    waiter = (message) => {
      if (message.type === type) resolve(message);
      else if (message.type === 'exit') fail(`the worker exited (code ${message.code}${message.signal ? `, signal ${message.signal}` : ''}) instead of sending "${type}"`);
      else fail(`expected "${type}" from the worker, got "${message.type}"`);
    };
    deliver();
  });
}

function sendToWorker(message) {
  worker.stdin.write(`${JSON.stringify(message)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The client: one request per connection, the whole answer read until the worker ends it.

function request(port, text) {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, HOST, () => socket.write(`${text}\n`));
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer.trim()));
    socket.on('error', reject);
  });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve(server.address().port));
  });
}

async function main() {
  console.log(`socket-handoff demo (Node ${process.version}, ${process.platform} ${process.arch}): one process hands its listening socket to another`);

  step = 'listening';
  // Once the worker holds the socket the parent must never accept anything itself.
  const server = net.createServer((conn) => {
    conn.destroy();
    fail('the parent accepted a connection after handing its listener to the worker');
  });
  const port = await listen(server);
  say(parentTag, `listening on ${HOST}:${port}`);

  step = 'starting the worker';
  startWorker();
  say(parentTag, `started a worker process: pid ${worker.pid}`);

  step = 'exporting the socket';
  const token = exportSocket(server, worker.pid);
  say(parentTag, `exportSocket(server, ${worker.pid}) -> token "${token.slice(0, 24)}..." (${token.length} base64 chars)`);
  const info = decodeProtocolInfo(token);
  say(
    parentTag,
    `the token decodes to szProtocol "${info.szProtocol}", family ${named(FAMILIES, info.iAddressFamily)}, ` +
      `type ${named(TYPES, info.iSocketType)}, protocol ${named(PROTOCOLS, info.iProtocol)}`,
  );

  step = 'handing the token to the worker';
  sendToWorker({ token });
  say(parentTag, 'sent the token to the worker on its stdin');
  const ready = await expectFromWorker('ready');
  if (ready.pid !== worker.pid) fail(`the worker says its pid is ${ready.pid}, but it was started as ${worker.pid}`);
  if (ready.port !== port) fail(`the worker listens on port ${ready.port}, not on the parent's port ${port}`);

  step = "closing the parent's listener";
  await new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  say(parentTag, 'closed its own listener (server.close()): only the worker holds the socket now');

  for (let i = 1; i <= REQUESTS; i++) {
    step = `sending request ${i}`;
    const answer = await request(port, `request ${i}`);
    say('[client]', `${HOST}:${port} "request ${i}" -> ${answer}`);
    if (!answer) fail('the connection closed without an answer');
    if (!answer.startsWith(`worker ${worker.pid} `)) fail(`the answer did not come from worker ${worker.pid}`);
  }

  step = 'importing a bad token';
  try {
    importSocket('not a token');
    fail("importSocket('not a token') did not throw");
  } catch (err) {
    if (err.code !== 'ERR_INVALID_TOKEN') fail(`importSocket('not a token') threw ${describeError(err)}, not ERR_INVALID_TOKEN`);
    say(parentTag, `importSocket('not a token') throws ${err.code}: ${err.message}`);
  }

  step = 'stopping the worker';
  say(parentTag, 'asking the worker to stop');
  workerStopping = true;
  sendToWorker({ cmd: 'stop' });
  worker.stdin.end();
  await expectFromWorker('closed');
  const exit = await expectFromWorker('exit');
  if (exit.code !== 0) fail(`the worker exited with code ${exit.code}${exit.signal ? ` (signal ${exit.signal})` : ''}`);
  say(parentTag, 'the worker exited with code 0');

  step = 'checking that the socket is gone';
  try {
    const answer = await request(port, 'anyone there?');
    fail(`a connection after both processes closed the socket was answered: ${answer}`);
  } catch (err) {
    if (err.code !== 'ECONNREFUSED') throw err;
    say('[client]', `${HOST}:${port} now refuses connections (${err.code}): nobody holds the socket any more`);
  }

  finished = true;
  say(parentTag, 'done: every step worked');
}

main().catch((err) => fail(describeError(err)));
