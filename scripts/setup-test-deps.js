#!/usr/bin/env node
'use strict';
/**
 * `npm test` runs this first (pretest). On Linux the suite needs, besides node_modules:
 *   wine, wine64            Windows Node under Wine (the Winsock path, scripts/win-node)
 *   gcc-mingw-w64-x86-64    the C interop peer (scripts/build-c-peer)
 *   php8.2-cli              the PHP peer of the Linux channel (peers/)
 *   python3                 the Python peer (peers/) and the protocol conformance tests
 *   gcc, libc6-dev          test/posix/constants.test.ts checks libc's values against its headers
 * Missing ones are installed with apt-get when this process may (root, or `sudo -n`); otherwise it
 * stops at once and prints the one command to run. Elsewhere (Windows, macOS) there is nothing to do.
 * SOCKET_HANDOFF_SKIP_SETUP=1 skips the check.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const NEEDED = [
  { command: 'wine', packages: ['wine', 'wine64'], why: 'runs Windows Node (the Winsock code path)' },
  { command: 'x86_64-w64-mingw32-gcc', packages: ['gcc-mingw-w64-x86-64'], why: 'builds the C interop peer' },
  { command: 'php', packages: ['php8.2-cli'], why: 'runs the PHP channel peer' },
  { command: 'python3', packages: ['python3'], why: 'runs the Python peer and the protocol conformance tests' },
  { command: 'gcc', file: '/usr/include/stdio.h', packages: ['gcc', 'libc6-dev'], why: 'checks the libc constants and struct layouts against the system headers' },
];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const present = (n) => has(n.command) && (n.file === undefined || fs.existsSync(n.file));

function main() {
  if (process.platform !== 'linux' || process.env.SOCKET_HANDOFF_SKIP_SETUP === '1') return 0;
  const missing = NEEDED.filter((n) => !present(n));
  if (missing.length === 0) return 0;
  const packages = missing.flatMap((n) => n.packages);
  const install = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  for (const n of missing) console.error(`setup-test-deps: ${n.packages.join(', ')} missing (${n.why})`);
  let prefix;
  if (typeof process.getuid === 'function' && process.getuid() === 0) prefix = [];
  else if (has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) prefix = ['sudo', '-n'];
  if (prefix === undefined || !has('apt-get')) {
    console.error(`setup-test-deps: cannot install them from here; run this once, then npm test again:\n\n  sudo apt-get update && sudo ${install}\n`);
    return 1;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    console.error(`setup-test-deps: ${[...prefix, ...args].join(' ')}`);
    const [cmd, ...rest] = [...prefix, ...args];
    return spawnSync(cmd, rest, { stdio: 'inherit', env }).status === 0;
  };
  if (!run(['apt-get', 'update', '-qq']) || !run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages])) {
    console.error(`setup-test-deps: the install failed; run it yourself, then npm test again:\n\n  sudo apt-get update && sudo ${install}\n`);
    return 1;
  }
  const still = missing.filter((n) => !present(n));
  if (still.length > 0) {
    console.error(`setup-test-deps: still missing after the install: ${still.flatMap((n) => n.packages).join(', ')}`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
