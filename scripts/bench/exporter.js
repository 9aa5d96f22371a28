'use strict';
/**
 * An exporter process of scripts/bench.js (Windows / Wine): opens `others` TCP sockets (half clients
 * of a local server, half the ends that server accepted), then exports on command, to `targetPid`.
 *
 *   node exporter.js OTHERS TARGET_PID [--profile]
 *
 * stdin, one JSON object per line, handled one after another:
 *   {"cmd":"newest","count":k,"record":bool}  k times: accept a new connection, exportSocket() it, close it
 *   {"cmd":"cached","count":k,"record":bool}  k times: exportSocket() the oldest of the other sockets
 *   {"cmd":"profile"}                         the --profile summary of the recorded exports
 *   {"cmd":"exit"}                            close everything and exit
 * stdout: {"ready":...} first, then {"done":cmd,"times":[ns...],"tokens":[...]} per command.
 */
const path = require('node:path');
const lib = require('./lib');
const { processHandleCount } = require('./handle-count');
const { installProfile, summarizeProfile } = require('./profile');

const DIST = path.join(__dirname, '..', '..', 'dist');
const pkg = require(DIST);
const OTHERS = Number(process.argv[2]);
const TARGET_PID = Number(process.argv[3]);
const profiler = process.argv.includes('--profile') ? installProfile(DIST) : null;
const samples = { newest: [], cached: [], first: [] };

const reply = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

let targetSrv;
let others;

async function newest(count, record) {
  const times = [];
  const tokens = [];
  for (let i = 0; i < count; i++) {
    const pair = await lib.connectPair(targetSrv);
    const into = record ? samples.newest : samples.first.length < 3 ? samples.first : null;
    const { token, ns } = lib.timedExport(pkg, profiler, pair.accepted, TARGET_PID, into);
    times.push(ns);
    tokens.push(token);
    // Our copy goes; the target's duplicate keeps the connection until the importer closes it.
    pair.client.destroy();
    pair.accepted.destroy();
  }
  return { times, tokens };
}

function cached(count, record) {
  const times = [];
  const tokens = [];
  const old = others.accepted[0];
  if (!old) return { times, tokens };
  for (let i = 0; i < count; i++) {
    const { token, ns } = lib.timedExport(pkg, profiler, old, TARGET_PID, record ? samples.cached : null);
    times.push(ns);
    tokens.push(token);
  }
  return { times, tokens };
}

async function shutdown() {
  await lib.destroyAndWait(others.sockets);
  await lib.closeServer(others.srv.server);
  await lib.closeServer(targetSrv.server);
  reply({ closed: true, handle_count: processHandleCount() });
  process.stdin.destroy();
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'newest':
      return reply({ done: 'newest', ...(await newest(msg.count, msg.record)) });
    case 'cached':
      return reply({ done: 'cached', ...cached(msg.count, msg.record) });
    case 'profile':
      return reply({
        profile: {
          newest: summarizeProfile(samples.newest),
          cached: summarizeProfile(samples.cached),
          // The first exports after the other sockets were opened (warm-up), one by one.
          first: samples.first.map((x) => ({ find_us: Number(x.findNs) / 1000, duplicate_us: Number(x.duplicateNs) / 1000, uvFileno: x.uvFileno, getsockname: x.getsockname })),
        },
      });
    case 'exit':
      return shutdown();
    default:
      return reply({ error: `unknown command ${JSON.stringify(msg.cmd)}` });
  }
}

async function main() {
  if (!Number.isInteger(OTHERS) || OTHERS < 0 || !Number.isInteger(TARGET_PID)) throw new Error('usage: exporter.js OTHERS TARGET_PID [--profile]');
  targetSrv = await lib.startServer();
  others = await lib.openOthers(OTHERS);
  reply({
    ready: true,
    pid: process.pid,
    requested: OTHERS,
    opened: others.count,
    open_ms: others.open_ms,
    error: others.error,
    handle_count: processHandleCount(),
  });
  let chain = Promise.resolve();
  lib.onLines(process.stdin, (line) => {
    chain = chain
      .then(() => handle(JSON.parse(line)))
      .catch((err) => reply({ error: { code: err && err.code, message: String(err && err.stack ? err.stack : err) } }));
  });
}

main().catch((err) => {
  reply({ error: { code: err && err.code, message: String(err && err.stack ? err.stack : err) } });
  process.exit(1);
});
