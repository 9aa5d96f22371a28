'use strict';
/**
 * The channel benchmark natively on Linux: the scenarios of scripts/bench-channel.js (direct,
 * node_send, ours; same scripts in scripts/bench-channel/, same load) run with the host's own Node,
 * where the channel is a Unix socket carrying each descriptor with SCM_RIGHTS. Results go to
 * bench-results.json, key `channel_linux` (merged; other keys are kept). `npm run bench` on a Linux
 * host runs it after the Wine benchmarks (scripts/bench.js); it also runs alone, with Linux Node:
 *
 *   node scripts/bench-channel-linux.js
 *
 * Load, as in bench-channel.js (see its header): this process opens 2,000 connections, 32 in flight;
 * each sends `req <i>` and must get `ok <scenario> <pid> <i>` and be closed; anything else is an
 * error. Per scenario: a warm-up, then ROUNDS measured runs of 2,000, the order alternating per round
 * (direct, node_send, ours, then ours, node_send, direct, ...); after the rounds, 400 connections
 * one at a time per scenario for latency without queueing, in 8 blocks of 50 interleaved the same
 * way (so that drift of the machine weighs on every scenario alike). Two defaults differ from the Wine run,
 * because a native round of 2,000 takes only 0.1-0.4 s: 6 rounds (2 under Wine), to average out more
 * of a shared machine's noise, and 2,000 warm-up connections per scenario (500 under Wine): after
 * 500 the first round still ran at about half the speed of the later ones (JIT, heap growth).
 *
 * Latency: per connection, from net.connect() in this process to the full answer read
 * (latency_us), p50 and p99; added_latency_us = ours minus direct, percentile by percentile, from
 * the one-at-a-time runs (the hand-off's own cost; with 32 in flight, latency is mostly queueing,
 * 32 / rate: that difference is added_latency_under_load_us). send_to_resolve_us: in the ours
 * front, sender.send() to its promise resolving.
 *
 * CPU pinning, two passes like the Wine bench:
 *   one_cpu (first; the headline numbers and the goals): this process pins itself to one CPU with
 *     taskset (as scripts/on-windows.js pinToOneCpu() does) before starting the scenario processes,
 *     which inherit it. A rate is then 1 / (CPU time per connection of every process), so the
 *     pass measures what a hand-off costs, independent of how the scheduler spreads 3-4 processes
 *     over few CPUs, and compares with the Wine headline, which is pinned the same way.
 *   all_cpus (second): every online CPU allowed, for context (parallelism between the front and
 *     the serving process helps the hand-off scenarios; on a 2-CPU machine the load generator
 *     competes with them).
 * BENCH_CPU=N picks the CPU of one_cpu (default 0); BENCH_CPU=all runs only all_cpus (like
 * pinToOneCpu, it turns pinning off). BENCH_CHANNEL_PASSES and the load variables of
 * bench-channel/config.js work as for the Wine bench.
 *
 * Other programs (a test run, Wine) on the same machine share the CPUs: the table's "others" column
 * (busy time of the CPUs in use minus the bench's processes, from /proc/stat) and the count of
 * other Node/Wine processes show when the machine was not quiet.
 */
const path = require('node:path');
const lib = require('./bench/lib');
const { mergeResults, RESULTS_FILE, runEnvironment } = require('./bench/results-file');
const { percentiles, round1 } = require('./bench/stats');
const procfs = require('./bench-channel/procfs');
const host = require('./bench-channel/linux-host');
const { loadConfig, passesFromEnv } = require('./bench-channel/config');
const { runLoad } = require('./bench-channel/load');
const { SCENARIOS, startScenarios, stopScenarios, ask, mergeStats, runErrors, runGuarded, measureRounds, measureUnloaded, mergeBlocks } = require('./bench-channel/scenarios');
const { summarizeScenario, ratio } = require('./bench-channel/summary');
const { printReport } = require('./bench-channel/linux-report');
const { nameProcess } = require('./bench-channel/common');

const RESULTS_KEY = 'channel_linux';
const DIR = path.join(__dirname, 'bench-channel');
const ONE_CPU = process.env.BENCH_CPU && process.env.BENCH_CPU !== 'all' ? process.env.BENCH_CPU : '0';
const CONFIG = {
  ...loadConfig({ rounds: 6, warmup: 2000 }),
  passes: passesFromEnv(process.env.BENCH_CPU === 'all' ? 'all_cpus' : 'one_cpu,all_cpus'),
  deadlineMs: 180000,
};
// Issue 9's goals for the natural path (a pauseOnConnect front calling sender.send()): pinned to one
// CPU, at least 1.4x child_process.send's throughput; one connection at a time, an added p50
// latency no higher than Node's own hand-off adds. Direct serving is reported, with no goal here.
const GOALS = { ratio_vs_node_send: 1.4 };
// And for the fast front (HandoverServer.listen({ sendTo })), with every CPU allowed: at least 1.6x
// child_process.send and 0.75x direct serving, and an added p50 latency below Node's.
const FAST_GOALS = { ratio_vs_node_send: 1.6, ratio_vs_direct: 0.75 };
const PASS_CPUS = { one_cpu: ONE_CPU, all_cpus: host.onlineCpus() };

const children = [];
const startChild = (name, script, args = []) => {
  const c = lib.startChild(name, path.join(DIR, script), args);
  children.push(c);
  return c;
};

let othersSeen = 0;
const noteOthers = () => {
  const n = host.otherNodeOrWineProcesses();
  if (n !== null && n > othersSeen) othersSeen = n;
};

/** One run of `n` connections, `k` in flight, against a scenario. `busyCpu`: 'cpu0' or 'cpu' (all). */
async function measure(name, sc, n, k, busyCpu) {
  await ask(sc.processes, 'reset', 'reset');
  noteOthers();
  const before = procfs.snapshot([]); // no wineserver natively: only the CPUs' busy time
  const cpu0 = process.cpuUsage();
  const load = await runLoad(sc.port, name, sc.servingPid, n, k, { timeoutMs: CONFIG.connectionTimeoutMs, abortAfterErrors: CONFIG.abortAfterErrors });
  const loadCpu = process.cpuUsage(cpu0);
  const after = procfs.snapshot([]);
  noteOthers();
  const stats = mergeStats(await ask(sc.processes, 'stats', 'stats'));
  const d = procfs.diff(before, after, busyCpu);
  return { name, n, load, loadCpu, stats, linux: d && { wineserver_us: null, busy_us: d.busy_us } };
}

/** a - b for each percentile (µs), or null when one is missing. */
const minus = (a, b) => (a && b && a.p50 !== null && b.p50 !== null ? { p50: round1(a.p50 - b.p50), p99: round1(a.p99 - b.p99) } : null);
const latencies = (runs) => percentiles(runs.flatMap((r) => r.load.latencyNs));

/** One pass: pin this process to `cpus`, start the scenario processes (they inherit it), measure, stop. */
async function runPass(key, cpus) {
  const pinned = host.setCpus(cpus);
  const processesCpus = host.allowedCpus();
  const busyCpu = key === 'one_cpu' && /^\d+$/.test(processesCpus || '') ? `cpu${processesCpus}` : 'cpu';
  othersSeen = 0;
  console.log(`channel bench (native Linux), pass ${key}: processes on CPUs ${processesCpus}${pinned.ok ? '' : ` (taskset -c ${cpus} failed: ${pinned.error})`}`);
  const sc = await startScenarios(startChild);
  const outside = Object.fromEntries(SCENARIOS.map((n) => [n, 0])); // errors outside the measured rounds
  for (const name of SCENARIOS) {
    const w = await measure(name, sc[name], CONFIG.warmup, CONFIG.inFlight, busyCpu);
    outside[name] += runErrors(w);
    if (runErrors(w) > 0) console.log(`  warm-up of ${name}: ${runErrors(w)} error(s): ${w.load.errors.samples.slice(0, 3).join('; ')}`);
  }
  const runs = await measureRounds(sc, (name, processes, n) => measure(name, processes, n, CONFIG.inFlight, busyCpu), CONFIG);
  // Latency without queueing: one connection at a time, every scenario.
  const unloaded = {};
  if (CONFIG.unloaded > 0) {
    const blocks = await measureUnloaded(sc, (name, processes, n) => measure(name, processes, n, 1, busyCpu), SCENARIOS, {
      total: CONFIG.unloaded,
      blocks: CONFIG.unloadedBlocks,
    });
    const blockP50 = (name, i) => latencies([blocks[name][i]]).p50;
    for (const name of SCENARIOS) {
      const rs = blocks[name];
      const m = mergeBlocks(rs);
      outside[name] += m.errors;
      unloaded[name] = {
        per_s: m.per_s,
        errors: m.errors,
        latency_us: latencies(rs),
        accept_to_adopted_us: name === 'direct' ? undefined : percentiles(m.adoptNs),
        send_to_resolve_us: name === 'ours' ? percentiles(m.frontLatencyNs) : undefined,
        // Per interleaved block: this scenario's p50 minus direct's in the same block.
        added_p50_per_block_us: name === 'direct' ? undefined : rs.map((_, i) => round1(blockP50(name, i) - blockP50('direct', i))),
      };
    }
  }
  await stopScenarios(sc);

  const scenarios = {};
  for (const n of SCENARIOS) {
    scenarios[n] = { ...summarizeScenario(n, runs[n]), latency_us: latencies(runs[n]), errors_outside_rounds: outside[n] };
    delete scenarios[n].cpu_us_per_connection.wineserver;
    if (outside[n] > 0) scenarios[n].status = 'errors';
  }
  const clean = SCENARIOS.every((n) => scenarios[n].status === 'ok');
  const rate = (n) => scenarios[n].per_s;
  const vsNodeSend = ratio(rate('ours'), rate('node_send'));
  const vsDirect = ratio(rate('ours'), rate('direct'));
  const u = CONFIG.unloaded > 0 ? unloaded : null;
  // Each round ran every scenario back to back: a ratio per round shows the spread of a noisy machine.
  const roundRate = (n, i) => runs[n][i].load.completed / runs[n][i].load.elapsed_ms;
  const perRound = (a, b) => runs[a].map((_r, i) => Math.round((roundRate(a, i) / roundRate(b, i)) * 100) / 100);
  const added = u ? minus(u.ours.latency_us, u.direct.latency_us) : null;
  const nodeAdded = u ? minus(u.node_send.latency_us, u.direct.latency_us) : null;
  const fastAdded = u ? minus(u.fast.latency_us, u.direct.latency_us) : null;
  const fastVsNodeSend = ratio(rate('fast'), rate('node_send'));
  const fastVsDirect = ratio(rate('fast'), rate('direct'));
  return {
    processes_cpus: processesCpus,
    pinning: pinned.ok ? (key === 'one_cpu' ? `pinned to CPU ${processesCpus} (taskset)` : `not pinned: CPUs ${processesCpus} allowed (taskset)`) : `taskset failed: ${pinned.error}`,
    other_node_or_wine_processes_seen: othersSeen,
    ours_per_s: rate('ours'),
    node_send_per_s: rate('node_send'),
    direct_per_s: rate('direct'),
    ratio_vs_node_send: vsNodeSend,
    ratio_vs_direct: vsDirect,
    ratio_vs_node_send_per_round: perRound('ours', 'node_send'),
    ratio_vs_direct_per_round: perRound('ours', 'direct'),
    fast: {
      per_s: rate('fast'),
      ratio_vs_node_send: fastVsNodeSend,
      ratio_vs_direct: fastVsDirect,
      ratio_vs_node_send_per_round: perRound('fast', 'node_send'),
      ratio_vs_direct_per_round: perRound('fast', 'direct'),
      added_latency_us: fastAdded,
      goals_met: {
        ratio_vs_node_send: clean && fastVsNodeSend !== null && fastVsNodeSend >= FAST_GOALS.ratio_vs_node_send,
        ratio_vs_direct: clean && fastVsDirect !== null && fastVsDirect >= FAST_GOALS.ratio_vs_direct,
        added_p50_below_node: clean && fastAdded !== null && nodeAdded !== null && fastAdded.p50 < nodeAdded.p50,
      },
    },
    latency_us: Object.fromEntries(SCENARIOS.map((n) => [n, scenarios[n].latency_us])),
    added_latency_us: added,
    node_send_added_latency_us: nodeAdded,
    added_latency_under_load_us: minus(scenarios.ours.latency_us, scenarios.direct.latency_us),
    send_to_resolve_us: scenarios.ours.send_to_ack_us,
    ack_read_delay_ms: sc.ours.ackReadDelay,
    unloaded: u ? { n: CONFIG.unloaded, in_flight: 1, ...u } : undefined,
    no_errors: clean,
    goals_met: {
      ratio_vs_node_send: clean && vsNodeSend !== null && vsNodeSend >= GOALS.ratio_vs_node_send,
      added_p50_not_above_node: clean && added !== null && nodeAdded !== null && added.p50 <= nodeAdded.p50,
    },
    scenarios,
  };
}

const NOTES = [
  'Native Linux: the host\'s Node, the channel over a Unix socket with SCM_RIGHTS. Same scenario scripts and load as the Wine bench (key "channel"), in the same `npm run bench`.',
  'Top-level rates, ratios and latencies are those of the headline pass (one_cpu unless BENCH_CPU=all): every bench process pinned to one CPU with taskset, so a rate is 1 / CPU cost per connection of all processes. passes.all_cpus repeats the measurement with every online CPU allowed. Each pass has its own goals_met.',
  'Rates: completed connections / measured time, over all rounds. A connection completes when the client got exactly "ok <scenario> <pid of the process that must answer> <i>" and the server closed it; anything else counts as an error and fails the goals.',
  'direct: one process accepts and answers. node_send: a front accepts (pauseOnConnect) and child_process.send()s each socket to a forked child that answers. ours: a front accepts (pauseOnConnect) and sender.send()s each socket, all in flight at once, to a receiver started separately that knows only the channel name.',
  'latency_us: per connection, net.connect() in the load generator to the full answer read, p50/p99 (nearest rank), over the measured rounds (in_flight connections at a time: mostly queueing). unloaded.*.latency_us: the same, one connection at a time. added_latency_us = unloaded ours minus unloaded direct, per percentile (not a percentile of differences); added_latency_under_load_us: the same over the rounds.',
  'send_to_resolve_us: in the ours front, sender.send() to its promise resolving (the receiver adopted and acknowledged), over the rounds (queueing included); unloaded.ours.send_to_resolve_us one at a time. With protocol 2 the sender reads acks ackReadDelay (ack_read_delay_ms: the front\'s sender.ackReadDelay) after a send, so this is mostly that delay, not the hand-off (accept_to_adopted_us is the hand-off). accept_to_adopted_us: the front\'s accept callback to the serving process having the socket (process.hrtime is CLOCK_MONOTONIC, one clock for the machine).',
  'cpu_us_per_connection: process CPU time (process.cpuUsage) per connection of the load generator (this process), the front and the serving process, and the busy time of the CPUs in use from /proc/stat (the pinned one in one_cpu, all in all_cpus); "others" in the table = busy minus the bench\'s processes (kernel work outside them, and other programs).',
];

async function main() {
  // This process is the load generator (and runs the bench).
  nameProcess('bench', 'load');
  const started = process.hrtime.bigint();
  const originalCpus = host.allowedCpus();
  for (const key of CONFIG.passes) if (!PASS_CPUS[key]) throw new Error(`BENCH_CHANNEL_PASSES: unknown pass ${key}`);
  const passes = {};
  try {
    for (const key of CONFIG.passes) passes[key] = await runPass(key, PASS_CPUS[key]);
  } finally {
    if (originalCpus) host.setCpus(originalCpus);
  }
  const headline = CONFIG.passes[0];
  const h = passes[headline];
  const pick = (...keys) => Object.fromEntries(keys.map((k) => [k, h[k]]));
  const result = {
    ...runEnvironment({ under_wine: false, by: 'native Node on the Linux host (process.platform linux)', version: null }),
    cpu_pinning: Object.entries(passes)
      .map(([key, p]) => `${key}${key === headline ? ' (headline)' : ''}: ${p.pinning}`)
      .join('; '),
    connections: CONFIG.connections,
    in_flight: CONFIG.inFlight,
    rounds: CONFIG.rounds,
    warmup: CONFIG.warmup,
    headline_pass: headline,
    ...pick('ours_per_s', 'node_send_per_s', 'direct_per_s', 'ratio_vs_node_send', 'ratio_vs_direct', 'ratio_vs_node_send_per_round', 'ratio_vs_direct_per_round'),
    ...pick('latency_us', 'added_latency_us', 'node_send_added_latency_us', 'added_latency_under_load_us', 'send_to_resolve_us'),
    unloaded_send_to_resolve_us: h.unloaded ? h.unloaded.ours.send_to_resolve_us : null,
    goals: { ratio_vs_node_send: `>= ${GOALS.ratio_vs_node_send}`, added_p50_not_above_node: 'ours added p50 <= node_send added p50, one at a time', pass: headline },
    fast: passes.all_cpus ? passes.all_cpus.fast : h.fast,
    fast_goals: { ratio_vs_node_send: `>= ${FAST_GOALS.ratio_vs_node_send}`, ratio_vs_direct: `>= ${FAST_GOALS.ratio_vs_direct}`, added_p50_below_node: 'fast added p50 < node_send added p50, one at a time', pass: passes.all_cpus ? 'all_cpus' : headline },
    goals_met: { ...h.goals_met, no_errors: Object.values(passes).every((p) => p.no_errors) },
    other_node_or_wine_processes_seen: Math.max(...Object.values(passes).map((p) => p.other_node_or_wine_processes_seen)),
    passes,
    notes: NOTES,
    config: CONFIG,
    duration_s: round1(Number(process.hrtime.bigint() - started) / 1e9),
  };
  printReport(result);
  mergeResults(RESULTS_KEY, result);
  console.log(`\nwrote ${RESULTS_FILE} (key "${RESULTS_KEY}")`);
}

/** Runs the native channel bench; never rejects. Resolves with the exit code (0 also when a goal is missed). */
function run() {
  if (process.platform !== 'linux') {
    console.error(`bench-channel-linux: needs Linux Node (this is ${process.platform}); under Wine run scripts/bench-channel.js`);
    return Promise.resolve(1);
  }
  return runGuarded('native channel bench', main, children, CONFIG.deadlineMs);
}

module.exports = { run };

if (require.main === module) run().then((code) => process.exit(code));
