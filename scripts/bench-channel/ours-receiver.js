'use strict';
/**
 * The receiving process of scenario "ours" (scripts/bench-channel.js): started on its own by the
 * bench, knowing nothing but the channel name; openReceiver(name) adopts every socket a front sends
 * and answers it.
 *
 *   node ours-receiver.js CHANNEL_NAME [--profile] [--as=fast]   (--as: the scenario name in its answers)
 * stdout: {"ready":true,"pid":...}; then common.scenarioCommandLoop (reset / stats / exit).
 */
const path = require('node:path');
const { reply, serveStats, serve, scenarioCommandLoop, nameProcess } = require('./common');

const DIST = path.join(__dirname, '..', '..', 'dist');
const name = process.argv[2];
const tag = (process.argv.find((a) => a.startsWith('--as=')) || '--as=ours').slice('--as='.length);
nameProcess(tag, 'serve');
const profile = process.argv.includes('--profile') ? require('./profile').installReceiverProfile(DIST) : null;
const pkg = require(DIST);

const stats = serveStats();
let cpuStart = process.cpuUsage();

function onSocket(socket, info) {
  const t0 = profile ? process.hrtime.bigint() : 0n;
  if (info.meta && info.meta.t) stats.adoptNs.push(Number(process.hrtime.bigint() - BigInt(info.meta.t)));
  serve(socket, tag, stats);
  if (profile) profile.record('on_socket', Number(process.hrtime.bigint() - t0));
}

pkg.openReceiver(name, onSocket).then(
  (receiver) => {
    receiver.on('clientError', (err) => stats.errors.add('receiver clientError', err));
    receiver.on('error', (err) => stats.errors.add('receiver error', err));
    reply({ ready: true, pid: process.pid });
    scenarioCommandLoop({
      reset() {
        stats.reset();
        if (profile) profile.reset();
        cpuStart = process.cpuUsage();
      },
      stats: () => ({
        worker: {
          served: stats.served,
          errors: stats.errors,
          adoptNs: stats.adoptNs,
          cpu: process.cpuUsage(cpuStart),
          profile: profile ? profile.summary(stats.adoptNs.length) : undefined,
        },
      }),
      close: () => receiver.close(),
    });
  },
  (err) => {
    reply({ error: `openReceiver: ${err.code} ${err.message}` });
    process.exit(1);
  },
);
