'use strict';
/**
 * The load of the channel benchmarks, the same for the Wine run (scripts/bench-channel.js) and the
 * native Linux run (scripts/bench-channel-linux.js). The goals are stated for the defaults; the
 * environment variables are for experiments: BENCH_CHANNEL_N, BENCH_CHANNEL_K,
 * BENCH_CHANNEL_ROUNDS, BENCH_CHANNEL_WARMUP, BENCH_CHANNEL_UNLOADED, BENCH_CHANNEL_UNLOADED_BLOCKS.
 */
const envInt = (name, dflt) => (process.env[name] ? Number.parseInt(process.env[name], 10) : dflt);

/** Defaults of the caller: measured `rounds` per scenario and `warmup` connections per scenario. */
function loadConfig({ rounds, warmup }) {
  return {
    connections: envInt('BENCH_CHANNEL_N', 2000),
    inFlight: envInt('BENCH_CHANNEL_K', 32),
    rounds: envInt('BENCH_CHANNEL_ROUNDS', rounds),
    warmup: envInt('BENCH_CHANNEL_WARMUP', warmup),
    /** Hand-off latency without queueing: this many connections one at a time, after the rounds. */
    unloaded: envInt('BENCH_CHANNEL_UNLOADED', 400),
    /** ... in this many blocks per scenario, interleaved (scenarios.js measureUnloaded). */
    unloadedBlocks: envInt('BENCH_CHANNEL_UNLOADED_BLOCKS', 8),
    connectionTimeoutMs: 10000,
    abortAfterErrors: 100,
  };
}

/** BENCH_CHANNEL_PASSES (comma-separated) or `dflt`; the first pass is the headline. */
const passesFromEnv = (dflt) => (process.env.BENCH_CHANNEL_PASSES || dflt).split(',').map((s) => s.trim());

module.exports = { loadConfig, passesFromEnv };
