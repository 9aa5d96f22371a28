'use strict';
/** bench-results.json: each benchmark writes its own top-level key and keeps the others. */
const fs = require('node:fs');
const path = require('node:path');

const RESULTS_FILE = path.join(__dirname, '..', '..', 'bench-results.json');

/** Replaces `key` in bench-results.json with `value` (atomically: a temp file, then rename). */
function mergeResults(key, value) {
  let existing = {};
  if (fs.existsSync(RESULTS_FILE)) {
    try {
      existing = JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8'));
      if (existing === null || typeof existing !== 'object' || Array.isArray(existing)) existing = {};
    } catch (err) {
      console.error(`bench-results.json is not valid JSON (${err.message}); writing a new one`);
      existing = {};
    }
  }
  const tmp = `${RESULTS_FILE}.${process.pid}.${key}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ ...existing, [key]: value }, null, 2) + '\n');
  fs.renameSync(tmp, RESULTS_FILE);
}

/** Whether this Windows process runs under Wine: Wine's ntdll exports wine_get_version, Windows' does not. */
function detectWine() {
  try {
    const version = require('koffi').load('ntdll.dll').func('const char *wine_get_version()')();
    return { under_wine: true, by: 'ntdll.dll exports wine_get_version', version: String(version) };
  } catch {
    const env = Boolean(process.env.WINEPREFIX || process.env.WINEDEBUG);
    return { under_wine: env, by: env ? 'WINEPREFIX/WINEDEBUG in the environment' : 'no sign of Wine', version: null };
  }
}

/** The fields every benchmark's results start with: where and how it ran. */
function runEnvironment(wine = detectWine()) {
  return {
    platform: process.platform,
    under_wine: wine.under_wine,
    under_wine_detected_by: wine.by,
    wine_version: wine.version,
    node: process.version,
    arch: process.arch,
    cpus: require('node:os').cpus().length,
    cpu_pinning: process.env.SOCKET_HANDOFF_BENCH_PINNING || 'not pinned (started under Windows/Wine directly)',
    date: new Date().toISOString(),
  };
}

module.exports = { RESULTS_FILE, mergeResults, detectWine, runEnvironment };
