'use strict';
/** Small statistics helpers for the benchmarks (scripts/bench.js, scripts/bench-channel*.js): durations in nanoseconds (bigint) in, microseconds out. */

const round1 = (x) => Math.round(x * 10) / 10;

/** Median (mean of the two middle values for an even count) of a sorted numeric array. */
function medianOfSorted(sorted) {
  const n = sorted.length;
  if (n === 0) return null;
  const mid = n >> 1;
  return n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of a sorted numeric array. */
function percentileOfSorted(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** { median, p90, min, max, n } in microseconds, from durations in nanoseconds (bigint or number). */
function summarize(durationsNs) {
  const us = durationsNs.map((d) => Number(d) / 1000).sort((a, b) => a - b);
  if (us.length === 0) return { median: null, p90: null, min: null, max: null, n: 0 };
  return {
    median: round1(medianOfSorted(us)),
    p90: round1(percentileOfSorted(us, 90)),
    min: round1(us[0]),
    max: round1(us[us.length - 1]),
    n: us.length,
  };
}

/** { p50, p99, n }: nearest-rank percentiles in microseconds, from durations in nanoseconds. */
function percentiles(durationsNs) {
  if (durationsNs.length === 0) return { p50: null, p99: null, n: 0 };
  const s = durationsNs.map(Number).sort((a, b) => a - b);
  return { p50: round1(percentileOfSorted(s, 50) / 1000), p99: round1(percentileOfSorted(s, 99) / 1000), n: s.length };
}

module.exports = { summarize, percentiles, round1 };
