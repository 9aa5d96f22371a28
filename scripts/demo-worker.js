'use strict';
/**
 * The worker process of scripts/demo.js; not meant to be run by hand.
 *
 * Protocol, one JSON object per line:
 *   parent -> worker (stdin):  {"token": "<base64>"}   then   {"cmd": "stop"}
 *   worker -> parent (stdout): {"type": "log" | "ready" | "closed" | "error", "text": "...", ...}
 * The parent prints every "text" as a transcript line prefixed with this worker's pid.
 */
const path = require('node:path');
const readline = require('node:readline');

const LAST_RESORT_MS = 45_000; // the parent gives up after 30 s; never outlive it by much

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Reports the failure to the parent, then exits 1 once the line is written. */
function die(text) {
  process.stdout.write(`${JSON.stringify({ type: 'error', text })}\n`, () => process.exit(1));
  setTimeout(() => process.exit(1), 2000).unref();
}

/** `CODE: message`, first line only (no stack traces in the transcript). */
function describeError(err) {
  let text = String(err);
  if (err && typeof err === 'object') text = err.code ? `${err.code}: ${err.message}` : String(err.message || err);
  return text.split(/\r?\n/)[0];
}

if (process.stdin.isTTY) {
  console.error('demo-worker.js is started by scripts/demo.js; run `npm run demo` instead.');
  process.exit(2);
}

process.on('uncaughtException', (err) => die(`unexpected error: ${describeError(err)}`));
setTimeout(() => die(`no "stop" from the parent within ${LAST_RESORT_MS / 1000} s; giving up`), LAST_RESORT_MS).unref();

let socketHandoff;
try {
  socketHandoff = require(path.join(__dirname, '..', 'dist'));
} catch (err) {
  die(`could not load the package from dist/ (${describeError(err)})`);
  return;
}

let server; // the adopted listener
let stopping = false;
let requests = 0;

/** One request line per connection; the answer names this process, then the connection ends. */
function answer(conn) {
  const n = ++requests;
  conn.setEncoding('utf8');
  conn.on('error', () => {}); // a client that resets is its own problem; the parent reports it
  let received = '';
  conn.on('data', (chunk) => {
    received += chunk;
    const eol = received.indexOf('\n');
    if (eol === -1) return;
    const request = received.slice(0, eol).trim();
    received = '';
    conn.end(`worker ${process.pid} answers "${request}" (connection #${n} it accepted)\n`);
  });
}

function onToken(token) {
  let handle;
  try {
    handle = socketHandoff.importSocket(token);
  } catch (err) {
    die(`importSocket(token) failed: ${describeError(err)}`);
    return;
  }
  send({
    type: 'log',
    text: `importSocket(token) -> SOCKET ${handle.handle}: family ${handle.family}, type ${handle.type}, protocol ${handle.protocol}, listening ${handle.listening}`,
  });

  try {
    server = handle.toNetServer(answer);
  } catch (err) {
    die(`toNetServer() failed: ${describeError(err)}`);
    return;
  }
  server.on('error', (err) => die(`the adopted server failed: ${describeError(err)}`));

  const onListening = () => {
    const { address, port } = server.address();
    send({ type: 'log', text: `toNetServer() -> net.Server listening on ${address}:${port}` });
    // The same SocketHandle cannot be adopted twice.
    try {
      handle.toNetServer();
    } catch (err) {
      if (err.code !== 'ERR_HANDLE_CONSUMED') {
        die(`a second toNetServer() threw ${describeError(err)}, not ERR_HANDLE_CONSUMED`);
        return;
      }
      send({ type: 'log', text: `a second toNetServer() on the same handle throws ${err.code} ("${err.message}")` });
      send({ type: 'ready', pid: process.pid, port, text: 'ready: serving on the socket the parent handed over' });
      return;
    }
    die('a second toNetServer() on the same SocketHandle did not throw');
  };
  if (server.listening) onListening();
  else server.once('listening', onListening);
}

function stop() {
  if (stopping) return;
  stopping = true;
  if (!server) die('told to stop before it had a listener');
  else {
    server.close((err) => {
      if (err) {
        die(`closing the listener failed: ${describeError(err)}`);
        return;
      }
      process.stdout.write(`${JSON.stringify({ type: 'closed', text: 'closed its listener; exiting' })}\n`, () => process.exit(0));
    });
  }
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    die(`unreadable line from the parent: ${JSON.stringify(line.slice(0, 60))}`);
    return;
  }
  if (typeof message.token === 'string') {
    if (server) die('got a second token');
    else onToken(message.token);
  } else if (message.cmd === 'stop') {
    stop();
  } else {
    die(`unknown message from the parent: ${line.slice(0, 60)}`);
  }
});
// The parent went away (or closed our stdin): shut down too.
lines.on('close', () => {
  if (!stopping) {
    if (server) stop();
    else die('the parent closed stdin before sending a token');
  }
});
