'use strict';
/**
 * The load generator of the channel benchmarks (scripts/bench-channel.js under Wine,
 * scripts/bench-channel-linux.js natively): the calling process opens connections to a scenario's
 * port and checks every answer. See bench-channel.js for the protocol.
 */
const net = require('node:net');
const { HOST } = require('../bench/lib');
const { errorLog } = require('./common');

/**
 * Opens `n` connections to `port`, `k` at a time. Each must get exactly `ok <tag> <pid> <i>\n` and
 * then be closed by the server. Resolves with { completed, errors, aborted, elapsed_ms, latencyNs }:
 * latencyNs has one entry per completed connection, from net.connect() to the full answer read.
 * Options: timeoutMs (per connection), abortAfterErrors (stop launching after that many errors).
 */
function runLoad(port, tag, pid, n, k, { timeoutMs, abortAfterErrors }) {
  return new Promise((resolve) => {
    const errors = errorLog();
    const latencyNs = [];
    let started = 0;
    let finished = 0;
    let completed = 0;
    let aborted = false;
    const t0 = process.hrtime.bigint();
    const done = () => {
      finished++;
      // A broken scenario must not keep the bench for N x the timeout: stop launching after many errors.
      if (!aborted && errors.count >= abortAfterErrors) {
        aborted = true;
        errors.add('run aborted', `${errors.count} errors; ${n - started} connections not attempted`);
        errors.count += n - started - 1;
      }
      if (!aborted && started < n) launch();
      else if (finished === started) resolve({ completed, errors, aborted, elapsed_ms: Number(process.hrtime.bigint() - t0) / 1e6, latencyNs });
    };
    const launch = () => {
      const i = started++;
      const expected = `ok ${tag} ${pid} ${i}\n`;
      let answer = '';
      let answeredNs = null;
      let failure = null;
      const connectAt = process.hrtime.bigint();
      const socket = net.connect({ port, host: HOST });
      const timer = setTimeout(() => {
        failure = failure || `no answer and close within ${timeoutMs} ms (got ${JSON.stringify(answer)})`;
        socket.destroy();
      }, timeoutMs);
      socket.setEncoding('latin1');
      socket.on('connect', () => socket.write(`req ${i}\n`));
      socket.on('data', (chunk) => {
        answer += chunk;
        if (answeredNs === null && answer.length >= expected.length) answeredNs = Number(process.hrtime.bigint() - connectAt);
      });
      socket.on('error', (err) => {
        failure = failure || `client error ${err.code || err.message}${answer ? ` after ${JSON.stringify(answer)}` : ''}`;
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (failure === null && answer !== expected) {
          failure = answer === '' ? 'closed without an answer' : `wrong answer ${JSON.stringify(answer.slice(0, 80))}, expected ${JSON.stringify(expected)}`;
        }
        if (failure === null) {
          completed++;
          latencyNs.push(answeredNs);
        } else {
          errors.add(`connection ${i}`, failure);
        }
        done();
      });
    };
    for (let j = 0; j < Math.min(k, n); j++) launch();
  });
}

module.exports = { runLoad };
