'use strict';
/**
 * Starts the demo's worker processes (scripts/demo/worker.js) and relays what they say. Each
 * worker is told nothing but channel names on its command line.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

/**
 * @param {{ channel: string, name: string, peers: string[], say: (tag: string, text: string) => void,
 *   onEvent?: (worker: object, message: object) => void, onFailure: (text: string) => void }} options
 */
function startWorker({ channel, name, peers, say, onEvent = () => {}, onFailure }) {
  const child = spawn(process.execPath, [path.join(__dirname, 'worker.js'), channel, name, peers.join(',')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const worker = {
    name,
    child,
    pid: child.pid,
    tag: `[worker ${name} ${child.pid}]`,
    exited: false,
    expectExit: false,
    ready: null,
    exit: null,
    /** Asks it to stop; resolves with its exit code. */
    stop() {
      worker.expectExit = true;
      if (!worker.exited) {
        child.stdin.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
        child.stdin.end();
      }
      return worker.exit;
    },
    /** Ends it the hard way (TerminateProcess on Windows); resolves once it is gone. */
    kill() {
      worker.expectExit = true;
      if (!worker.exited) child.kill();
      return worker.exit;
    },
  };
  child.stdin.on('error', () => {}); // it may be gone already; 'exit' says so
  child.on('error', (err) => onFailure(`could not start worker ${name}: ${err.message}`));

  worker.ready = new Promise((resolve) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        say(worker.tag, line); // a stray console.log: show it as it is
        return;
      }
      if (message.text && !message.quiet) say(worker.tag, message.text);
      if (message.type === 'error') onFailure(`worker ${name} reported: ${message.text}`);
      if (message.type === 'stopped') worker.expectExit = true; // it stopped in order (asked to, or Ctrl-C)
      if (message.type === 'ready') {
        if (message.pid !== child.pid) onFailure(`worker ${name} says its pid is ${message.pid}, but it was started as ${child.pid}`);
        resolve(message);
      }
      onEvent(worker, message);
    });
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => say(worker.tag, `(stderr) ${line}`));
  worker.exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      worker.exited = true;
      if (!worker.expectExit) onFailure(`worker ${name} exited unexpectedly (code ${code}${signal ? `, signal ${signal}` : ''})`);
      resolve(code);
    });
  });
  return worker;
}

module.exports = { startWorker };
