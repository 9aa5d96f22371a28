'use strict';
/**
 * The target process of scripts/bench.js (runs on Windows / under Wine, started by the bench with
 * process.execPath). It imports every token it is sent and closes it at once, timing
 * importSocket() + close() itself, so the cost is measured where it happens.
 *
 * stdin, one item per line:
 *   <base64 token>   import it and close it; the time is recorded under the current phase
 *   #phase NAME      later imports are recorded under NAME
 *   #sync ID         reply {"sync":ID,"imported":n,"failed":n} once every earlier line is done
 *   #report          reply {"report":{phase:{median,p90,min,max,n}}, "errors":[...]}
 *   #exit            exit (stdin closing also exits)
 * stdout: one JSON object per line; {"ready":true,"pid":...} first.
 */
const path = require('node:path');
const { onLines } = require('./lib');
const { summarize } = require('./stats');

const pkg = require(path.join(__dirname, '..', '..', 'dist'));

let phase = 'default';
const timings = new Map(); // phase -> bigint[]
const errors = [];
let imported = 0;
let failed = 0;

const reply = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

function importOne(token) {
  const t0 = process.hrtime.bigint();
  try {
    pkg.importSocket(token).close();
  } catch (err) {
    failed++;
    if (errors.length < 10) errors.push({ phase, code: err && err.code, message: String(err && err.message) });
    return;
  }
  const dt = process.hrtime.bigint() - t0;
  imported++;
  if (!timings.has(phase)) timings.set(phase, []);
  timings.get(phase).push(dt);
}

function onLine(line) {
  if (!line.startsWith('#')) return importOne(line);
  const [command, ...rest] = line.slice(1).split(' ');
  const arg = rest.join(' ');
  switch (command) {
    case 'phase':
      phase = arg;
      break;
    case 'sync':
      reply({ sync: arg, imported, failed });
      break;
    case 'report': {
      const report = {};
      for (const [name, list] of timings) report[name] = summarize(list);
      reply({ report, imported, failed, errors });
      break;
    }
    case 'exit':
      process.exit(0);
      break;
    default:
      reply({ error: `unknown command ${command}` });
  }
}

onLines(process.stdin, onLine);
process.stdin.on('end', () => process.exit(0));
reply({ ready: true, pid: process.pid });
