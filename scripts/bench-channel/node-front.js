'use strict';
/**
 * Scenario "node_send" of scripts/bench-channel.js: this process accepts on 127.0.0.1 and hands
 * every connection to a forked child with Node's own child_process.send(message, socket) (default
 * serialization; Node sends one handle at a time and closes its copy when the child acknowledges).
 * stdout: {"ready":true,"port":...,"pid":...,"servingPid":<child pid>}; then common.scenarioCommandLoop.
 */
const net = require('node:net');
const path = require('node:path');
const { fork } = require('node:child_process');
const { reply, errorLog, scenarioCommandLoop, nameProcess } = require('./common');

nameProcess('node_send', 'front');

const child = fork(path.join(__dirname, 'node-child.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], windowsHide: true });
const errors = errorLog();
let handed = 0;
let callbackNs = [];
let cpuStart = process.cpuUsage();

let waiter = null;
child.on('message', (msg) => {
  if (waiter && waiter.match(msg)) {
    const w = waiter;
    waiter = null;
    w.resolve(msg);
  }
});
child.on('exit', (code, signal) => {
  errors.add('forked child exited', `code ${code} signal ${signal}`);
  if (waiter) waiter.reject(new Error(`the forked child exited (code ${code}, signal ${signal})`));
});
const ask = (msg, match) =>
  new Promise((resolve, reject) => {
    waiter = { match, resolve, reject };
    child.send(msg);
  });

// pauseOnConnect: Node must not start reading a socket it is going to send. child_process.send()
// does not stop a read in progress: bytes that arrive before the child has the socket would be read
// here and dropped (seen under Wine: every request lost). Node's cluster module avoids reading the
// same way.
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  socket.on('error', (err) => errors.add('front socket error', err));
  const t0 = process.hrtime.bigint();
  child.send({ cmd: 'socket', t: String(t0) }, socket, (err) => {
    if (err) {
      errors.add('child_process.send', err);
      socket.destroy();
      return;
    }
    handed++;
    callbackNs.push(Number(process.hrtime.bigint() - t0));
  });
});
server.on('error', (err) => errors.add('server error', err));

const ready = new Promise((resolve) => {
  const onMsg = (msg) => {
    if (msg && msg.ready) {
      child.off('message', onMsg);
      resolve(msg);
    }
  };
  child.on('message', onMsg);
});

ready.then((childReady) => {
  server.listen(0, '127.0.0.1', () => {
    reply({ ready: true, port: server.address().port, pid: process.pid, servingPid: childReady.pid });
    scenarioCommandLoop({
      async reset() {
        handed = 0;
        callbackNs = [];
        errors.reset();
        cpuStart = process.cpuUsage();
        await ask({ cmd: 'reset' }, (m) => m.reset);
      },
      async stats() {
        const cpu = process.cpuUsage(cpuStart);
        const worker = (await ask({ cmd: 'stats' }, (m) => m.stats)).stats;
        return { front: { handed, errors, callbackNs, cpu }, worker };
      },
      async close() {
        server.close();
        child.removeAllListeners('exit');
        child.send({ cmd: 'exit' });
        await new Promise((resolve) => child.once('exit', resolve));
      },
    });
  });
});
