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

module.exports = { RESULTS_FILE, mergeResults };
