'use strict';
/** The stdout table of scripts/bench-channel-linux.js (the native Linux channel bench). */
const { SCENARIOS } = require('./scenarios');

const fmt = (v, w) => String(v === null || v === undefined ? '-' : v).padStart(w);
const pq = (x) => (x && x.p50 !== null ? `${x.p50} / ${x.p99}` : '-');

function passTable(key, p, r) {
  const s = p.scenarios;
  const rounds = (x) => x.rounds_per_s.map(Math.round).join('/');
  const rw = Math.max(12, ...SCENARIOS.map((n) => rounds(s[n]).length));
  const cpuHeads = ['load gen', 'front', 'worker', 'CPUs busy', '(others)'];
  const left = `${'scenario'.padEnd(10)} ${'per s'.padStart(8)} ${'rounds per s'.padStart(rw)} ${'errors'.padStart(6)} `;
  const lines = [
    '',
    `pass ${key}: ${p.pinning}` + (p.other_node_or_wine_processes_seen ? `; ${p.other_node_or_wine_processes_seen} other Node/Wine processes present (a test run?): expect noise` : ''),
    `${' '.repeat(left.length)}${'CPU µs per connection'.padEnd(cpuHeads.length * 10)}  latency µs, p50 / p99`,
    `${left}${cpuHeads.map((h) => h.padStart(10)).join('')}  ${`${r.in_flight} in flight`.padStart(17)} ${'one at a time'.padStart(17)}`,
  ];
  for (const name of SCENARIOS) {
    const x = s[name];
    const c = x.cpu_us_per_connection;
    const own = [c.load_generator, c.front, c.worker];
    const others = c.cpus_busy === null || own.includes(null) ? null : c.cpus_busy - own.reduce((a, v) => a + v, 0);
    const unloaded = p.unloaded ? p.unloaded[name].latency_us : null;
    lines.push(
      `${name.padEnd(10)} ${fmt(x.per_s, 8)} ${fmt(rounds(x), rw)} ${fmt(x.errors, 6)} ` +
        `${[...own, c.cpus_busy, others].map((v) => fmt(v, 10)).join('')}  ${fmt(pq(x.latency_us), 17)} ${fmt(pq(unloaded), 17)}` +
        (x.status === 'ok' ? '' : `   ERRORS (${x.errors_outside_rounds} more in warm-up / one at a time): ${x.error_samples.slice(0, 3).join('; ')}`),
    );
  }
  const met = (k) => (p.goals_met[k] ? 'met' : 'not met');
  lines.push(
    `ratio_vs_node_send = ${p.ratio_vs_node_send} (goal ${met('ratio_vs_node_send')}; per round ${p.ratio_vs_node_send_per_round.join(', ')}), ratio_vs_direct = ${p.ratio_vs_direct} (per round ${p.ratio_vs_direct_per_round.join(', ')})${p.no_errors ? '' : '  (with errors: see above)'}`,
    `added latency vs direct, p50 / p99 µs: ours ${pq(p.added_latency_us)} one at a time, ${pq(p.added_latency_under_load_us)} with ${r.in_flight} in flight; node_send ${pq(p.node_send_added_latency_us)} one at a time`,
    `ours front, sender.send() to resolve, p50 / p99 µs: ${pq(p.send_to_resolve_us)} with ${r.in_flight} in flight (up to ${s.ours.max_sends_pending} pending)` +
      (p.unloaded ? `, ${pq(p.unloaded.ours.send_to_resolve_us)} one at a time` : '') +
      ` (acks are read ackReadDelay = ${p.ack_read_delay_ms} ms after a send: see accept to adoption for the hand-off itself)`,
  );
  if (p.unloaded && p.unloaded.ours.accept_to_adopted_us) {
    const adopted = (n) => pq(p.unloaded[n].accept_to_adopted_us);
    lines.push(`accept in the front to the socket in the serving process, one at a time, p50 / p99 µs: ours ${adopted('ours')}; node_send ${adopted('node_send')}`);
  }
  if (p.unloaded && p.unloaded.ours.added_p50_per_block_us) {
    const blocks = (n) => p.unloaded[n].added_p50_per_block_us.join(', ');
    const below = p.unloaded.ours.added_p50_per_block_us.filter((v, i) => v <= p.unloaded.node_send.added_p50_per_block_us[i]).length;
    lines.push(
      `added p50 one at a time, per interleaved block (µs): ours ${blocks('ours')}; node_send ${blocks('node_send')}; fast ${blocks('fast')}` +
        ` (ours not above node_send in ${below} of ${p.unloaded.ours.added_p50_per_block_us.length})`,
    );
  }
  return lines;
}

function printReport(r) {
  const lines = [
    '',
    `socket-handoff channel bench, native: ${r.platform}, node ${r.node}, ${r.arch}, ${r.cpus} CPUs`,
    `load: ${r.connections} connections, ${r.in_flight} in flight, each answered and closed; ${r.rounds} measured rounds per scenario in alternating order, after ${r.warmup} warm-up connections; then ${r.config.unloaded} one at a time in ${r.config.unloadedBlocks} interleaved blocks`,
  ];
  for (const [key, p] of Object.entries(r.passes)) lines.push(...passTable(key, p, r));
  const met = (k) => (r.goals_met[k] ? 'met' : 'NOT met');
  lines.push(
    '',
    `headline (pass ${r.headline_pass}): ours ${r.ours_per_s}/s, node_send ${r.node_send_per_s}/s, direct ${r.direct_per_s}/s`,
    `ratio_vs_node_send = ${r.ratio_vs_node_send}  (goal ${r.goals.ratio_vs_node_send}: ${met('ratio_vs_node_send')})`,
    `ratio_vs_direct    = ${r.ratio_vs_direct}  (no goal for the natural path)`,
    `added latency per hand-off (minus direct, one at a time): ours p50 ${r.added_latency_us ? r.added_latency_us.p50 : '-'} µs, p99 ${r.added_latency_us ? r.added_latency_us.p99 : '-'} µs; ` +
      `node_send p50 ${r.node_send_added_latency_us ? r.node_send_added_latency_us.p50 : '-'} µs, p99 ${r.node_send_added_latency_us ? r.node_send_added_latency_us.p99 : '-'} µs (goal: ours p50 not above node_send's: ${met('added_p50_not_above_node')})`,
  );
  const f = r.fast;
  const fmet = (k) => (f.goals_met[k] ? 'met' : 'NOT met');
  lines.push(
    `fast front (HandoverServer.listen({ sendTo }), pass ${r.fast_goals.pass}): ${f.per_s}/s; ratio_vs_node_send = ${f.ratio_vs_node_send} (goal ${r.fast_goals.ratio_vs_node_send}: ${fmet('ratio_vs_node_send')}; per round ${f.ratio_vs_node_send_per_round.join(', ')}), ` +
      `ratio_vs_direct = ${f.ratio_vs_direct} (goal ${r.fast_goals.ratio_vs_direct}: ${fmet('ratio_vs_direct')}; per round ${f.ratio_vs_direct_per_round.join(', ')}), ` +
      `added p50 ${f.added_latency_us ? f.added_latency_us.p50 : '-'} µs (goal below node_send's: ${fmet('added_p50_below_node')})`,
  );
  if (!r.goals_met.no_errors) lines.push('a scenario had errors: goals not met');
  console.log(lines.join('\n'));
}

module.exports = { printReport };
