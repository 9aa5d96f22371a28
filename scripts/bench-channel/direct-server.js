'use strict';
/**
 * Scenario "direct" of scripts/bench-channel.js: one process accepts on 127.0.0.1 and answers
 * every connection itself. No hand-off: the baseline of what Wine's networking allows.
 * stdout: {"ready":true,"port":...,"pid":...}; then answers the commands of common.scenarioCommandLoop.
 */
const net = require('node:net');
const { reply, serveStats, serve, scenarioCommandLoop, nameProcess } = require('./common');

nameProcess('direct', 'serve');

const stats = serveStats();
let cpuStart = process.cpuUsage();
const server = net.createServer((socket) => serve(socket, 'direct', stats));
server.on('error', (err) => stats.errors.add('server error', err));

server.listen(0, '127.0.0.1', () => {
  reply({ ready: true, port: server.address().port, pid: process.pid, servingPid: process.pid });
  scenarioCommandLoop({
    reset() {
      stats.reset();
      cpuStart = process.cpuUsage();
    },
    stats: () => ({ worker: { served: stats.served, errors: stats.errors, adoptNs: [], cpu: process.cpuUsage(cpuStart) } }),
    close: () => server.close(),
  });
});
