'use strict';
/**
 * One generation of the server that `npm run demo` upgrades; started by scripts/demo/restart.js
 * (version 1) or by the previous generation's upgrade() (every later one), not meant to be run by hand.
 *
 *   node restart-server.js NAME VERSION
 *
 * Every generation runs the same few lines of Upgrader: start({ name }), listen('web'), ready().
 * The first finds no predecessor and listens itself (127.0.0.1, a free port); each later one
 * receives that listener from the generation serving, which then stops accepting, finishes its
 * connections and exits. Answers GET with `version V (pid P)`; `POST /upgrade` starts the next
 * version with upgrader.upgrade() and answers with its pid once it serves; `POST /stop` stops the
 * service. Generations started by upgrade() inherit this process's stdout, so the demo hears them
 * all: one JSON object per line, {"type": "ready" | "retired" | "exiting" | "error", "pid", ...}.
 */
const http = require('node:http');
const path = require('node:path');

const [name, versionArg] = process.argv.slice(2);
const version = Number(versionArg);
if (!name || !Number.isInteger(version) || version < 1) {
  console.error('usage: restart-server.js NAME VERSION (started by scripts/demo.js; run `npm run demo`)');
  process.exit(2);
}

const { die, describeError } = require('./child-io');
const tell = (message) => process.stdout.write(`${JSON.stringify({ pid: process.pid, version, ...message })}\n`);

process.on('uncaughtException', (err) => die(`unexpected error: ${describeError(err)}`));
process.on('unhandledRejection', (err) => die(`unexpected error: ${describeError(err)}`));

const { Upgrader } = require(path.join(__dirname, '..', '..', 'dist'));

let upgrader;
let retiring = false;
let answered = 0;
let answeredAfter = 0; // answered after a successor took over, on connections accepted before

const app = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/upgrade') {
    // The next version: this Node, this script, the next version number. Detached from this process.
    upgrader.upgrade({ args: [...process.execArgv, __filename, name, String(version + 1)] }).then(
      (pid) => res.end(JSON.stringify({ to: pid })),
      (err) => res.end(JSON.stringify({ error: err.code, message: err.message })),
    );
    return;
  }
  if (req.method === 'POST' && req.url === '/stop') {
    res.setHeader('connection', 'close');
    res.end(JSON.stringify({ stopping: process.pid }));
    upgrader.close().then(() => {
      app.close();
      tell({ type: 'exiting', answered, answeredAfter });
      process.exit(0); // demo clients have stopped: nothing else is open
    });
    return;
  }
  answered++;
  if (retiring) {
    answeredAfter++;
    res.setHeader('connection', 'close'); // a kept-alive client goes to the successor next time
  }
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`version ${version} (pid ${process.pid})\n`);
});

(async () => {
  upgrader = await Upgrader.start({ name, drainTimeout: 10000 });
  upgrader.on('warning', (err) => tell({ type: 'log', text: `warning: ${describeError(err)}` }));
  const server = upgrader.listen('web', { port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => app.emit('connection', socket));
  server.on('error', (err) => die(`listener error: ${describeError(err)}`));
  await upgrader.ready();
  tell({ type: 'ready', port: server.address().port, inherited: upgrader.inherited });
  upgrader.on('retire', () => {
    retiring = true;
    tell({ type: 'retired', open: upgrader.connections });
  });
  upgrader.on('drained', () => {
    // stdout is a pipe shared with the next generations: exit once this line is out.
    process.stdout.write(`${JSON.stringify({ pid: process.pid, version, type: 'exiting', answered, answeredAfter })}\n`, () => process.exit(0));
  });
})().catch((err) => die(`Upgrader failed: ${describeError(err)}`));
