'use strict';
/**
 * Starting, driving and stopping the scenario processes of the channel benchmarks (direct,
 * node_send, ours; see scripts/bench-channel.js). Used by the Wine run and the native Linux run
 * alike: the scenario scripts are plain Node and run on both.
 */
const { round1 } = require('../bench/stats');

/** ours: the natural path (a net.Server front calling sender.send()); fast: HandoverServer.listen({ sendTo }). */
const SCENARIOS = ['direct', 'node_send', 'ours', 'fast'];

/**
 * Starts every scenario's processes with `startChild(name, script, args)` (a bench/lib.startChild
 * for a script of this folder); resolves with { name: { port, servingPid, processes: [...] } }
 * (ours also has `ackReadDelay`: its sender's, in ms).
 * `extraArgs` go to both processes of "ours" (e.g. --profile).
 */
async function startScenarios(startChild, extraArgs = []) {
  const channelName = `socket-handoff-bench-${process.pid}-${Date.now()}`;
  const direct = startChild('direct server', 'direct-server.js');
  const nodeFront = startChild('node_send front', 'node-front.js');
  const receiver = startChild('ours receiver', 'ours-receiver.js', [channelName, ...extraArgs]);
  const fastReceiver = startChild('fast receiver', 'ours-receiver.js', [`${channelName}-fast`, '--as=fast']);
  const [d, n, r, fr] = await Promise.all([
    direct.expect((m) => m.ready, 'the direct server to listen'),
    nodeFront.expect((m) => m.ready, 'the node_send front and its forked child'),
    receiver.expect((m) => m.ready, 'the receiver to listen on the channel'),
    fastReceiver.expect((m) => m.ready, 'the fast receiver to listen on its channel'),
  ]);
  // The front starts only once the receiver listens: it knows the channel name, nothing else.
  const oursFront = startChild('ours front', 'ours-front.js', [channelName, ...extraArgs]);
  const o = await oursFront.expect((m) => m.ready, 'the ours front to connect to the channel');
  if (o.servingPid !== r.pid) throw new Error(`the ours front reached receiver pid ${o.servingPid}, but the receiver started is pid ${r.pid}`);
  const fastFront = startChild('fast front', 'fast-front.js', [`${channelName}-fast`]);
  const f = await fastFront.expect((m) => m.ready, 'the fast front to connect to its channel');
  if (f.servingPid !== fr.pid) throw new Error(`the fast front reached receiver pid ${f.servingPid}, but its receiver is pid ${fr.pid}`);
  return {
    direct: { port: d.port, servingPid: d.servingPid, processes: [direct] },
    node_send: { port: n.port, servingPid: n.servingPid, processes: [nodeFront] },
    ours: { port: o.port, servingPid: o.servingPid, ackReadDelay: o.ackReadDelay, processes: [oursFront, receiver] },
    fast: { port: f.port, servingPid: f.servingPid, processes: [fastFront, fastReceiver] },
  };
}

async function stopScenarios(sc) {
  for (const name of SCENARIOS) {
    for (const c of sc[name].processes) {
      c.send({ cmd: 'exit' });
      await c.expect((m) => m.closed, 'close');
      const exit = await c.exited;
      if (exit.code !== 0) throw new Error(`${c.name} exited with code ${exit.code}`);
    }
  }
}

/** Sends `cmd` to every process and waits for each one's answer carrying `key`. */
function ask(processes, cmd, key) {
  return Promise.all(processes.map((c) => (c.send({ cmd }), c.expect((m) => m[key] !== undefined, cmd))));
}

/** Merges the {front, worker} stats of a scenario's processes. */
function mergeStats(replies) {
  const out = {};
  for (const r of replies) Object.assign(out, r.stats);
  return out;
}

/** Errors of one measured run: the load generator's, the front's and the serving process's. */
const runErrors = (r) => r.load.errors.count + (r.stats.front ? r.stats.front.errors.count : 0) + (r.stats.worker ? r.stats.worker.errors.count : 0);

/**
 * Runs a bench's main() under a watchdog; never rejects. Resolves with the exit code (0 also when a
 * goal is missed); on failure or timeout the scenario processes in `children` are killed.
 */
function runGuarded(label, main, children, deadlineMs) {
  const watchdog = setTimeout(() => {
    console.error(`${label}: no result after ${deadlineMs / 1000} s; giving up`);
    for (const c of children) c.kill();
    process.exit(2);
  }, deadlineMs);
  watchdog.unref();
  return main().then(
    () => {
      clearTimeout(watchdog);
      return 0;
    },
    (err) => {
      clearTimeout(watchdog);
      console.error(`${label} failed:`, err && err.stack ? err.stack : err);
      for (const c of children) c.kill();
      return 1;
    },
  );
}

/**
 * The measured rounds: every scenario `rounds` times, in alternating order (forward, then reverse)
 * so a slow spell hits all alike. `measure(name, processes, n)` runs one load; returns the runs by scenario.
 */
async function measureRounds(sc, measure, { rounds, connections }) {
  const runs = Object.fromEntries(SCENARIOS.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? SCENARIOS : SCENARIOS.slice().reverse();
    for (const name of order) {
      const r = await measure(name, sc[name], connections);
      runs[name].push(r);
      const rate = Math.round((r.load.completed / r.load.elapsed_ms) * 10000) / 10;
      console.log(
        `  round ${round + 1} ${name.padEnd(9)} ${rate}/s, ${r.load.completed}/${r.n} completed in ${Math.round(r.load.elapsed_ms * 10) / 10} ms` +
          (runErrors(r) ? `, ${runErrors(r)} error(s)` : ''),
      );
    }
  }
  return runs;
}

/**
 * One connection at a time, for latency without queueing: `total` connections per scenario of
 * `names`, in `blocks` interleaved blocks whose order alternates like the rounds, so that a machine
 * that slows down or speeds up during the run weighs on every scenario alike (one block of 200 per
 * scenario, one scenario after the other, let Node's added latency move by 60 µs between runs).
 * Resolves with { name: [run, ...] }, one run per block.
 */
async function measureUnloaded(sc, measure, names, { total, blocks }) {
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  const perBlock = Math.max(1, Math.ceil(total / blocks));
  for (let block = 0; block < blocks; block++) {
    const order = block % 2 === 0 ? names : names.slice().reverse();
    for (const name of order) runs[name].push(await measure(name, sc[name], perBlock));
  }
  return runs;
}

/**
 * What a scenario's one-at-a-time blocks (measureUnloaded) add up to: connections per second over
 * all of them, their errors, and every front and serving-process sample (ns) in one list each.
 */
function mergeBlocks(rs) {
  const sum = (f) => rs.reduce((n, r) => n + f(r), 0);
  return {
    per_s: round1((sum((r) => r.load.completed) / sum((r) => r.load.elapsed_ms)) * 1000),
    errors: sum(runErrors),
    adoptNs: rs.flatMap((r) => r.stats.worker.adoptNs || []),
    frontLatencyNs: rs.flatMap((r) => (r.stats.front && r.stats.front.latencyNs) || []),
  };
}

module.exports = { SCENARIOS, startScenarios, stopScenarios, ask, mergeStats, runErrors, runGuarded, measureRounds, measureUnloaded, mergeBlocks };
