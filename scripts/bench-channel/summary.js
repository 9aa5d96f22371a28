'use strict';
/**
 * Summaries of the measured runs of a channel benchmark scenario (the Wine run and the native
 * Linux run alike). A run is { n, load, loadCpu, stats, linux } as measured by the bench.
 */
const { percentiles, round1 } = require('../bench/stats');

const cpuUs = (c) => (c ? c.user + c.system : null);
const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null);

function summarizeScenario(name, runs) {
  const attempted = runs.reduce((a, r) => a + r.n, 0);
  const completed = runs.reduce((a, r) => a + r.load.completed, 0);
  const elapsedMs = runs.reduce((a, r) => a + r.load.elapsed_ms, 0);
  const errorSamples = [];
  let errors = 0;
  const addErrors = (log) => {
    if (!log) return;
    errors += log.count;
    for (const s of log.samples) if (errorSamples.length < 10) errorSamples.push(s);
  };
  for (const r of runs) {
    addErrors(r.load.errors);
    if (r.stats.front) addErrors(r.stats.front.errors);
    if (r.stats.worker) addErrors(r.stats.worker.errors);
  }
  const perConn = (f) => {
    const vals = runs.map(f);
    if (vals.some((v) => v === null || v === undefined)) return null;
    return Math.round(vals.reduce((a, v) => a + v, 0) / attempted);
  };
  const collect = (f) => runs.flatMap((r) => f(r) || []);
  return {
    per_s: elapsedMs > 0 ? round1((completed / elapsedMs) * 1000) : 0,
    rounds_per_s: runs.map((r) => round1((r.load.completed / r.load.elapsed_ms) * 1000)),
    connections: attempted,
    completed,
    served: runs.reduce((a, r) => a + (r.stats.worker ? r.stats.worker.served : 0), 0),
    errors,
    error_samples: errorSamples,
    status: errors === 0 && completed === attempted ? 'ok' : 'errors',
    cpu_us_per_connection: {
      load_generator: perConn((r) => cpuUs(r.loadCpu)),
      front: name === 'direct' ? 0 : perConn((r) => cpuUs(r.stats.front && r.stats.front.cpu)),
      worker: perConn((r) => cpuUs(r.stats.worker && r.stats.worker.cpu)),
      wineserver: perConn((r) => (r.linux ? r.linux.wineserver_us : null)),
      cpus_busy: perConn((r) => (r.linux ? r.linux.busy_us : null)),
    },
    accept_to_adopted_us: name === 'direct' ? undefined : percentiles(collect((r) => r.stats.worker && r.stats.worker.adoptNs)),
    send_to_ack_us: name === 'ours' ? percentiles(collect((r) => r.stats.front && r.stats.front.latencyNs)) : undefined,
    send_callback_us: name === 'node_send' ? percentiles(collect((r) => r.stats.front && r.stats.front.callbackNs)) : undefined,
    max_sends_pending: name === 'ours' ? Math.max(...runs.map((r) => (r.stats.front ? r.stats.front.maxPending : 0))) : undefined,
  };
}

module.exports = { summarizeScenario, ratio, cpuUs };
