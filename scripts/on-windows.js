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

/**
 * For scripts that use the hand-off channel (the demo): it runs natively on Windows and Linux.
 * Elsewhere, or on Linux with SOCKET_HANDOFF_UNDER_WINE=1 (to watch the Windows path from Linux),
 * re-run under Wine as ensureWindows() does.
 */
function ensureChannelPlatform(scriptPath, args = process.argv.slice(2)) {
  if (process.platform === 'linux' && process.env.SOCKET_HANDOFF_UNDER_WINE !== '1') return;
  ensureWindows(scriptPath, args);
}

/**
 * Off Windows, pins this process (and so the whole Wine process tree it starts, wineserver included
 * when this run starts it) to one CPU, for the benchmarks: under Wine every Winsock call is a round
 * trip to the wineserver, and unpinned timings on a small VM swing about tenfold with where the
 * scheduler puts the two. BENCH_CPU=N picks the CPU, BENCH_CPU=all turns pinning off. The outcome is
 * left in SOCKET_HANDOFF_BENCH_PINNING for the results file.
 */
function pinToOneCpu() {
  const cpu = process.env.BENCH_CPU || '0';
  if (cpu === 'all') {
    process.env.SOCKET_HANDOFF_BENCH_PINNING = 'not pinned (BENCH_CPU=all)';
    return;
  }
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { encoding: 'utf8' });
  process.env.SOCKET_HANDOFF_BENCH_PINNING =
    r.status === 0 ? `all bench processes pinned to CPU ${cpu} (taskset)` : `not pinned: taskset failed (${(r.error && r.error.message) || String(r.stderr).trim()})`;
}

module.exports = { ensureWindows, ensureChannelPlatform, pinToOneCpu };
