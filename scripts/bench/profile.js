'use strict';
/**
 * `node scripts/bench.js --profile`: splits the cost of exportSocket() into the SOCKET lookup
 * (backend.findSocketByKey) and WSADuplicateSocketW (backend.duplicateSocket), and counts what the
 * lookup did (handle-queue steps, TCP handles visited, getsockname calls). It wraps functions of the
 * built package in place (dist/ only, nothing in src/ changes); the wrappers add overhead, so the
 * bench does not write bench-results.json in this mode.
 */
const path = require('node:path');

function installProfile(distDir) {
  const backend = require(path.join(distDir, 'platform.js')).platform(); // exportSocket() calls these through it
  const libuv = require(path.join(distDir, 'win32', 'libuv.js'));
  const ws2 = require(path.join(distDir, 'win32', 'ws2_32.js'));
  const counts = { readPointer: 0, uvFileno: 0, getsockname: 0 };
  let current = null;

  const countCalls = (mod, name, counter) => {
    const original = mod[name];
    mod[name] = (...args) => { counts[counter]++; return original(...args); };
  };
  countCalls(libuv, 'readPointer', 'readPointer');
  countCalls(libuv, 'uv_fileno', 'uvFileno');
  countCalls(ws2, 'getsockname', 'getsockname');

  const timeCalls = (name, field) => {
    const original = backend[name];
    backend[name] = (...args) => {
      const t0 = process.hrtime.bigint();
      try {
        return original(...args);
      } finally {
        if (current) current[field] += process.hrtime.bigint() - t0;
      }
    };
  };
  timeCalls('findSocketByKey', 'findNs');
  timeCalls('duplicateSocket', 'duplicateNs');

  return {
    begin() {
      for (const k of Object.keys(counts)) counts[k] = 0;
      current = { findNs: 0n, duplicateNs: 0n };
    },
    end() {
      const sample = { ...current, ...counts };
      current = null;
      return sample;
    },
  };
}

/** Per-field medians and maxima of profile samples, times in µs. */
function summarizeProfile(samples) {
  if (samples.length === 0) return null;
  const fields = Object.keys(samples[0]);
  const out = { n: samples.length };
  for (const f of fields) {
    const values = samples.map((s) => (typeof s[f] === 'bigint' ? Number(s[f]) / 1000 : s[f])).sort((a, b) => a - b);
    const name = f.endsWith('Ns') ? `${f.slice(0, -2)}_us` : f;
    out[name] = {
      median: Math.round(values[values.length >> 1] * 10) / 10,
      p90: Math.round(values[Math.ceil(0.9 * values.length) - 1] * 10) / 10,
      max: Math.round(values[values.length - 1] * 10) / 10,
    };
  }
  // How many exports fell back to a long walk (more than 100 TCP handles visited).
  out.long_walks = samples.filter((s) => s.uvFileno > 100).length;
  return out;
}

module.exports = { installProfile, summarizeProfile };
