/** spawn(), retried under Wine when process creation fails with `spawn UNKNOWN` (spawn-process.js). */
export const spawnProcess: typeof import('node:child_process').spawn;
