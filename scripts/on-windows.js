'use strict';
/**
 * For scripts that need Windows (demo, bench): off Windows, re-run the calling script with the
 * Windows build of Node through scripts/win-node (under Wine) and exit with its status.
 * Returns only when already running on Windows.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

function ensureWindows(scriptPath, args = process.argv.slice(2)) {
  if (process.platform === 'win32') return;
  const winNode = path.join(__dirname, 'win-node');
  const result = spawnSync('bash', [winNode, scriptPath, ...args], { stdio: 'inherit' });
  if (result.error) {
    console.error(`could not run ${winNode}: ${result.error.message}`);
    process.exit(1);
  }
  process.exit(result.status === null ? 1 : result.status);
}

module.exports = { ensureWindows };
