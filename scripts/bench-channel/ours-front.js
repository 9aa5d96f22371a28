'use strict';
/**
 * The front of scenario "ours" (scripts/bench-channel.js): accepts on 127.0.0.1 and hands every
 * connection to the receiver on channel NAME with sender.send(socket). Sends are not awaited one
 * by one: every accepted connection is sent at once, so many are in flight on the channel.
 *
 *   node ours-front.js CHANNEL_NAME [--profile]
 * stdout: {"ready":true,"port":...,"pid":...,"servingPid":<receiver pid>}; then common.scenarioCommandLoop.
 */
const net = require('node:net');
const path = require('node:path');
const { reply, errorLog, scenarioCommandLoop, nameProcess } = require('./common');

nameProcess('ours', 'front');

const DIST = path.join(__dirname, '..', '..', 'dist');
const name = process.argv[2];
const profile = process.argv.includes('--profile') ? require('./profile').installSenderProfile(DIST) : null;
const pkg = require(DIST);

const errors = errorLog();
let handed = 0;
let latencyNs = [];
let maxPending = 0;
let cpuStart = process.cpuUsage();

async function main() {
  const sender = await pkg.openSender(name, { ackTimeout: 30000 });
  sender.on('close', (reason) => errors.add('channel closed', reason));
  sender.on('error', () => undefined); // 'close' above records it

  // Like the node_send front, accept without starting to read (the same load for both); with
  // BENCH_CHANNEL_OURS_READING=1 the socket is reading when sent (send() then stops it and forwards
  // what Node had buffered as `head`).
  const server = net.createServer({ pauseOnConnect: process.env.BENCH_CHANNEL_OURS_READING !== '1' }, (socket) => {
    socket.on('error', (err) => errors.add('front socket error', err));
    if (profile) profile.watchClose(socket);
    const t0 = process.hrtime.bigint();
    sender.send(socket, { meta: { t: String(t0) } }).then(
      () => {
        const ns = Number(process.hrtime.bigint() - t0);
        handed++;
        latencyNs.push(ns);
        if (profile) profile.record('send_to_ack', ns);
      },
      (err) => {
        errors.add('send', err);
        socket.destroy();
      },
    );
    if (sender.pending > maxPending) maxPending = sender.pending;
  });
  server.on('error', (err) => errors.add('server error', err));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  reply({ ready: true, port: server.address().port, pid: process.pid, servingPid: sender.receiverPid, ackReadDelay: sender.ackReadDelay });
  scenarioCommandLoop({
    reset() {
      handed = 0;
      latencyNs = [];
      maxPending = 0;
      errors.reset();
      if (profile) profile.reset();
      cpuStart = process.cpuUsage();
    },
    stats: () => ({
      front: { handed, errors, latencyNs, maxPending, cpu: process.cpuUsage(cpuStart), profile: profile ? profile.summary(handed) : undefined },
    }),
    close: () => {
      server.close();
      return sender.close();
    },
  });
}

main().catch((err) => {
  reply({ error: `ours front: ${err.code || ''} ${err.message}` });
  process.exit(1);
});
