'use strict';
/**
 * The front of scenario "fast": HandoverServer.listen({ port, sendTo: sender }). The package's own
 * accept path hands every connection, raw, to the receiver on channel NAME; no net.Socket is built
 * here. A connection the receiver does not take would be emitted as 'connection': the bench counts
 * that as an error (it would be answered by nobody).
 *
 *   node fast-front.js CHANNEL_NAME
 * stdout: {"ready":true,"port":...,"pid":...,"servingPid":<receiver pid>}; then common.scenarioCommandLoop.
 */
const path = require('node:path');
const { reply, errorLog, scenarioCommandLoop, nameProcess } = require('./common');

nameProcess('fast', 'front');

const DIST = path.join(__dirname, '..', '..', 'dist');
const pkg = require(DIST);
const name = process.argv[2];
const errors = errorLog();
let cpuStart = process.cpuUsage();

async function main() {
  const sender = await pkg.openSender(name, { ackTimeout: 30000 });
  sender.on('close', (reason) => errors.add('channel closed', reason));
  sender.on('error', () => undefined);
  const server = pkg.HandoverServer.listen({ port: 0, host: '127.0.0.1', sendTo: sender }, (socket) => {
    errors.add('connection not handed off', new Error('the receiver did not take it'));
    socket.destroy();
  });
  server.on('error', (err) => errors.add('server error', err));
  await new Promise((resolve) => server.once('listening', resolve));
  reply({ ready: true, port: server.address().port, pid: process.pid, servingPid: sender.receiverPid });
  scenarioCommandLoop({
    reset() {
      errors.reset();
      cpuStart = process.cpuUsage();
    },
    stats: () => ({ front: { errors, cpu: process.cpuUsage(cpuStart) } }),
    close: () => {
      server.close();
      return sender.close();
    },
  });
}

main().catch((err) => {
  reply({ error: `fast front: ${err.code || ''} ${err.message}` });
  process.exit(1);
});
