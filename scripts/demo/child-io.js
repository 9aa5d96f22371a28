'use strict';
/** How the demo's child processes (workers, server versions) talk to scripts/demo.js: JSON lines on stdout. */

/** Sends one message to the parent. */
const tell = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

/** Reports a fatal error to the parent and exits 1 (after stdout is flushed, or 2 s at most). */
function die(text) {
  process.stdout.write(`${JSON.stringify({ type: 'error', text })}\n`, () => process.exit(1));
  setTimeout(() => process.exit(1), 2000).unref();
}

/** `CODE: message`, first line only. */
function describeError(err) {
  let text = String(err);
  if (err && typeof err === 'object') text = err.code ? `${err.code}: ${err.message}` : String(err.message || err);
  return text.split(/\r?\n/)[0];
}

/**
 * Calls onCommand for each JSON line the parent writes to stdin (lines that are not JSON are
 * ignored), and onParentGone when stdin closes.
 */
function onParentCommands(onCommand, onParentGone) {
  require('node:readline')
    .createInterface({ input: process.stdin })
    .on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      onCommand(message);
    })
    .on('close', onParentGone);
}

module.exports = { tell, die, describeError, onParentCommands };
