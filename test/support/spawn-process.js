'use strict';
/**
 * spawn() for the tests and the fixtures. Under Wine, process creation now and then fails with
 * `spawn UNKNOWN` (libuv's mapping of the Windows error Wine's CreateProcess returned) before the
 * child exists, when many Wine processes start at once; Node throws that at once (it is not one of
 * the errors it reports through 'error'). The child never ran, so nothing of the test happened:
 * under Wine only, such a failure is retried a few times, each retry said on stderr. Every other
 * failure, and any failure on Linux or real Windows, is thrown as it came.
 */
const { spawn } = require('node:child_process');
const { UNDER_WINE } = require('./platform');

const ATTEMPTS = 4;
const PAUSE_MS = 250;

function spawnProcess(command, args, options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return spawn(command, args, options);
    } catch (err) {
      if (!UNDER_WINE || err.code !== 'UNKNOWN' || attempt === ATTEMPTS) throw err;
      process.stderr.write(`spawn-process: Wine could not start ${command} (${err.message}); attempt ${attempt + 1} of ${ATTEMPTS} in ${PAUSE_MS} ms\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, PAUSE_MS);
    }
  }
}

module.exports = { spawnProcess };
