'use strict';
/**
 * The steps `npm run bench` runs on a non-Windows host (scripts/bench.js): the Wine run, then, on
 * Linux, the native channel bench. scripts/on-windows.js ensureWindows() exits once the Wine run is
 * over; runUnderWine() starts it the same way (bash scripts/win-node, synchronously, output
 * forwarded) but returns its status, so that the host process can go on to the native step.
 */
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const status = (what, r) => {
  if (r.error) {
    console.error(`could not run ${what}: ${r.error.message}`);
    return 1;
  }
  return r.status === null ? 1 : r.status;
};

/** Runs `script` with the Windows build of Node under Wine (scripts/win-node); returns its exit status. */
function runUnderWine(script, args = []) {
  const winNode = path.join(__dirname, '..', 'win-node');
  // The native step that follows measures on the same CPUs: the wineserver must be gone first.
  const env = { ...process.env, WIN_NODE_WAIT_WINESERVER: '1' };
  return status(winNode, spawnSync('bash', [winNode, script, ...args], { stdio: 'inherit', env }));
}

/** Runs `script` with this (the host's) Node; returns its exit status. */
function runNative(script, args = []) {
  return status(script, spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' }));
}

module.exports = { runUnderWine, runNative };
