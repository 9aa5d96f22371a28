/**
 * PollWatcher runs on the main thread only (its readiness callbacks are exercised by every
 * unix-link and channel test); in a worker every Linux entry point says so with a code.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CHANNEL_RUNTIMES, isLinuxLine, runFixture } from '../cross-process/fixture-runner';
import { describeOnLinux } from '../support/platform';

const dist = path.resolve(__dirname, '..', '..', 'dist');

describeOnLinux('PollWatcher', 'libuv polls descriptors of the Linux channel', () => {
  it('refuses to run in a worker thread, where the loop is not the one the node binary exports', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const pkg = require(${JSON.stringify(dist)});
      const codeOf = (p) => p.then(() => 'opened', (err) => err.code);
      Promise.all([codeOf(pkg.openReceiver('worker-test-' + process.pid, () => {})), codeOf(pkg.openSender('/tmp/nothing-here.sock'))])
        .then((codes) => {
          const server = pkg.HandoverServer.listen();
          server.once('listening', () => parentPort.postMessage([...codes, 'opened']));
          server.once('error', (err) => parentPort.postMessage([...codes, err.code]));
        });`;
    const worker = new Worker(code, { eval: true });
    const codes = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(codes).toEqual(['ERR_NOT_MAIN_THREAD', 'ERR_NOT_MAIN_THREAD', 'ERR_NOT_MAIN_THREAD']);
  });

  // Node 26 no longer runs them when a function koffi called from libuv returns (node-internals.ts runQueuedTicks).
  it.each(CHANNEL_RUNTIMES.filter(({ line }) => isLinuxLine(line)))(
    "runs what a callback queued (nextTick, promise continuations) before Node's next own callback, on $label",
    async ({ line }) => {
      const { status, result } = await runFixture<{ order: string[]; error?: unknown }>('uv-poll-ticks.js', [], line);
      expect(result.error).toBeUndefined();
      expect(status).toBe(0);
      expect(result).toEqual({ order: ['callback', 'tick', 'microtask'] });
    },
    30000,
  );
});
