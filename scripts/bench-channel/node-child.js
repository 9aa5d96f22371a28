'use strict';
/**
 * The forked child of scenario "node_send" (scripts/bench-channel/node-front.js): receives each
 * connection with Node's own child_process IPC (process.on('message', (msg, socket))) and answers
 * it. Talks to its front over the same IPC channel: {cmd:'reset'|'stats'} in, {reset}/{stats} out.
 */
const { serveStats, serve, nameProcess } = require('./common');

nameProcess('node_send', 'serve');

const stats = serveStats();
let cpuStart = process.cpuUsage();

process.on('message', (msg, socket) => {
  if (msg && msg.cmd === 'socket') {
    if (!socket) {
      stats.errors.add('message without a socket', 'no handle');
      return;
    }
    if (msg.t) stats.adoptNs.push(Number(process.hrtime.bigint() - BigInt(msg.t)));
    serve(socket, 'node_send', stats);
    return;
  }
  if (msg && msg.cmd === 'reset') {
    stats.reset();
    cpuStart = process.cpuUsage();
    process.send({ reset: true });
  } else if (msg && msg.cmd === 'stats') {
    process.send({ stats: { served: stats.served, errors: stats.errors, adoptNs: stats.adoptNs, cpu: process.cpuUsage(cpuStart) } });
  } else if (msg && msg.cmd === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
