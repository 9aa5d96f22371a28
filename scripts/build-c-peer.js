#!/usr/bin/env node
'use strict';
/**
 * Builds the C interop peer (test/cross-process/fixtures/c-peer/c-peer.c) with a MinGW-w64 gcc into
 * test/cross-process/fixtures/c-peer/build/c-peer.exe when the .exe is missing or older than its
 * source, and prints its path. Calls the compiler directly, so it needs no shell on any platform.
 *
 * The compiler is $CC_MINGW, else x86_64-w64-mingw32-gcc found on PATH, else (on Windows) gcc
 * (Debian: apt-get install -y gcc-mingw-w64-x86-64; Windows: any MinGW-w64 gcc). Without one and
 * without an up-to-date .exe it fails: the interop tests never skip. Under Wine there is no compiler
 * on PATH, so .ci/run builds the peer on the Linux side first.
 *
 *   node scripts/build-c-peer.js        (scripts/build-c-peer does the same)
 */
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', 'test', 'cross-process', 'fixtures', 'c-peer');
const SOURCE = path.join(DIR, 'c-peer.c');
const OUTPUT = path.join(DIR, 'build', 'c-peer.exe');
// Off Windows a plain `gcc` builds for the host, not for Windows, so only the cross compiler counts there.
const COMPILERS = process.platform === 'win32' ? ['x86_64-w64-mingw32-gcc', 'gcc'] : ['x86_64-w64-mingw32-gcc'];

/** The full path of `command` on PATH (with PATHEXT's extensions on Windows), or undefined. */
function onPath(command, env = process.env) {
  if (path.isAbsolute(command)) return fs.existsSync(command) ? command : undefined;
  const extensions = process.platform === 'win32' ? ['', ...(env.PATHEXT || '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean).map((ext) => ext.toLowerCase())] : [''];
  for (const dir of (env.PATH || env.Path || '').split(path.delimiter).filter(Boolean)) {
    for (const ext of extensions) {
      const candidate = path.join(dir, command + ext);
      try {
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not in this folder
      }
    }
  }
  return undefined;
}

/** The compiler to use: $CC_MINGW (which must exist), else the first of COMPILERS on PATH. */
function findCompiler(env = process.env) {
  if (env.CC_MINGW) {
    const found = onPath(env.CC_MINGW, env);
    if (!found) throw new Error(`build-c-peer: CC_MINGW=${env.CC_MINGW} is not a file nor on PATH`);
    return found;
  }
  for (const name of COMPILERS) {
    const found = onPath(name, env);
    if (found) return found;
  }
  throw new Error(`build-c-peer: no MinGW-w64 gcc: set CC_MINGW, or put one of ${COMPILERS.join(', ')} on PATH (Debian: apt-get install -y gcc-mingw-w64-x86-64)`);
}

const isUpToDate = () => fs.existsSync(OUTPUT) && fs.statSync(OUTPUT).mtimeMs >= fs.statSync(SOURCE).mtimeMs;

/** Builds the peer unless it is up to date; returns the path of c-peer.exe. */
function buildCPeer({ env = process.env } = {}) {
  if (isUpToDate()) return OUTPUT;
  const cc = findCompiler(env);
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  // Parallel builds each write their own file; the rename that publishes it is atomic.
  const temporary = path.join(path.dirname(OUTPUT), `c-peer.${process.pid}.tmp.exe`);
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', temporary, SOURCE, '-lws2_32'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    const output = `${err.stdout || ''}${err.stderr || ''}`.trim();
    throw new Error(`build-c-peer: ${cc} failed (${err.code || `exit ${err.status}`})${output ? `:\n${output}` : ''}`, { cause: err });
  }
  try {
    fs.renameSync(temporary, OUTPUT);
  } catch (err) {
    // Windows refuses to replace an .exe that is running: a parallel build published it first.
    fs.rmSync(temporary, { force: true });
    if (!isUpToDate()) throw err;
  }
  return OUTPUT;
}

module.exports = { buildCPeer, findCompiler, OUTPUT, SOURCE };

if (require.main === module) {
  try {
    process.stdout.write(`${buildCPeer()}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(69);
  }
}
