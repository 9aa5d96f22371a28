'use strict';
/**
 * `npm run bench`: the cost of exportSocket() and importSocket(), and how export scales with the
 * number of other sockets the exporter has open. Results go to bench-results.json, key `token`.
 *
 * Performance claims are ratios against a baseline measured in the same run; absolute timings are
 * reported, never asserted (under Wine they are nothing like Windows).
 *
 *   node scripts/bench.js             run it (off Windows it re-runs itself under Wine; on a Linux
 *                                     host it then runs the native channel bench,
 *                                     scripts/bench-channel-linux.js, key `channel_linux`)
 *   node scripts/bench.js --profile   also split each export into the SOCKET lookup and
 *                                     WSADuplicateSocketW (adds overhead; bench-results.json is not written)
 *
 * Processes (all Windows Node):
 *   this one          a/b: exports one connected socket again and again
 *   import child      the target of every export: imports each token once, closes it, times the import
 *   two exporters     c: one with 10 other open sockets, one with 5,000; they measure in alternating
 *                     blocks, so a slow spell of a shared machine (other Wine processes share the
 *                     wineserver and the CPUs) hits both sides alike instead of skewing the ratio
 */

if (process.platform !== 'win32') {
  // The host side: the Wine run of this script (token, then channel), then on Linux the native
  // channel bench, each a process of its own. process.exit: nothing below runs on the host.
  require('./on-windows').pinToOneCpu();
  const steps = require('./bench/host-steps');
  const wine = steps.runUnderWine(__filename, process.argv.slice(2));
  let native = 0;
  if (process.platform === 'linux' && process.argv.includes('--profile')) {
    console.log('\n--profile: the native Linux channel bench is skipped');
  } else if (process.platform === 'linux') {
    console.log('\nnative Linux channel bench (scripts/bench-channel-linux.js):');
    native = steps.runNative(require('node:path').join(__dirname, 'bench-channel-linux.js'));
  }
  process.exit(wine || native);
}

const path = require('node:path');
const { detectWine, mergeResults, RESULTS_FILE, runEnvironment } = require('./bench/results-file');
const { summarize, round1 } = require('./bench/stats');
const { processHandleCount } = require('./bench/handle-count');
const lib = require('./bench/lib');

const DIST = path.join(__dirname, '..', 'dist');
const pkg = require(DIST);
const IMPORT_CHILD = path.join(__dirname, 'bench', 'import-child.js');
const EXPORTER = path.join(__dirname, 'bench', 'exporter.js');
const PROFILE = process.argv.includes('--profile');

const CONFIG = {
  // a/b: one connected socket exported again and again; every token imported once by the child.
  export: { warmup: 100, iterations: 1000, batch: 100 },
  // c: exporters with few and with many other open sockets, measured in alternating blocks.
  others: [10, 5000],
  newest: { warmupBlocks: 3, blocks: 40, blockSize: 10 },
  cached: { warmupBlocks: 2, blocks: 20, blockSize: 20 },
  deadlineMs: 300000,
};
const GOAL_RATIO = 2;

const { installProfile } = require('./bench/profile');
const profiler = PROFILE ? installProfile(DIST) : null;

const children = [];

// ---------------------------------------------------------------------------------------------
// The import child.

function startImporter() {
  const c = lib.startChild('import child', IMPORT_CHILD);
  children.push(c);
  let syncId = 0;
  return {
    pid: c.pid,
    ready: () => c.expect((m) => m.ready, 'the import child to start'),
    /** Sends tokens to be imported under `phase`; waits until all are imported. Empties `tokens`. */
    async importTokens(phase, tokens) {
      if (tokens.length === 0) return;
      const id = String(++syncId);
      c.write(`#phase ${phase}\n${tokens.join('\n')}\n#sync ${id}\n`);
      tokens.length = 0;
      const state = await c.expect((m) => m.sync === id, `sync ${id}`);
      if (state.failed > 0) throw new Error(`the import child failed ${state.failed} import(s): ${JSON.stringify(await this.report())}`);
    },
    async report() {
      c.write('#report\n');
      return c.expect((m) => m.report !== undefined, 'report');
    },
    stop: () => c.stop('#exit\n'),
  };
}

// ---------------------------------------------------------------------------------------------
// a + b: this process exports one connected socket repeatedly; the child imports and times.

async function measureExportImport(importer) {
  const srv = await lib.startServer();
  const pair = await lib.connectPair(srv);
  const { warmup, iterations, batch } = CONFIG.export;
  const tokens = [];
  for (let i = 0; i < warmup; i++) {
    tokens.push(lib.timedExport(pkg, profiler, pair.accepted, importer.pid).token);
    if (tokens.length >= batch) await importer.importTokens('warmup', tokens);
  }
  await importer.importTokens('warmup', tokens);
  const times = [];
  while (times.length < iterations) {
    const k = Math.min(batch, iterations - times.length);
    for (let i = 0; i < k; i++) {
      const { token, ns } = lib.timedExport(pkg, profiler, pair.accepted, importer.pid);
      times.push(ns);
      tokens.push(token);
    }
    // This process waits, idle, while the child imports: the two do not compete for the CPUs.
    await importer.importTokens('import', tokens);
  }
  await lib.destroyAndWait([pair.client, pair.accepted]);
  await lib.closeServer(srv.server);
  return summarize(times);
}

// ---------------------------------------------------------------------------------------------
// c: two exporter processes, 10 and 5,000 other open sockets, alternating blocks.

async function measureWithOthers(importer) {
  const counts = CONFIG.others;
  const exporters = counts.map((n) => {
    const c = lib.startChild(`exporter(${n} others)`, EXPORTER, [String(n), String(importer.pid), ...(PROFILE ? ['--profile'] : [])]);
    children.push(c);
    return c;
  });
  const ready = await Promise.all(exporters.map((c) => c.expect((m) => m.ready, 'the exporter to open its sockets')));
  const results = counts.map((n, i) => ({
    requested: n,
    opened: ready[i].opened,
    open_ms: ready[i].open_ms,
    error: ready[i].error,
    handle_count: ready[i].handle_count,
    first_exports_after_opening_us: null,
    newest: [],
    cached: [],
  }));

  const block = async (i, kind, count, record) => {
    exporters[i].send({ cmd: kind, count, record });
    const res = await exporters[i].expect((m) => m.done === kind, `${kind} exports`);
    await importer.importTokens(`${kind}-${counts[i]}`, res.tokens);
    return res.times;
  };

  for (const kind of ['newest', 'cached']) {
    const c = CONFIG[kind];
    for (let b = 0; b < c.warmupBlocks; b++) {
      for (let i = 0; i < exporters.length; i++) {
        const times = await block(i, kind, c.blockSize, false);
        if (kind === 'newest' && b === 0) results[i].first_exports_after_opening_us = times.slice(0, 3).map((ns) => round1(ns / 1000));
      }
    }
    for (let b = 0; b < c.blocks; b++) {
      // Alternate which side goes first, so neither always follows the other.
      const order = b % 2 === 0 ? exporters.map((_, i) => i) : exporters.map((_, i) => i).reverse();
      for (const i of order) results[i][kind].push(...(await block(i, kind, c.blockSize, true)));
    }
  }

  let profile = null;
  if (PROFILE) {
    profile = {};
    for (let i = 0; i < exporters.length; i++) {
      exporters[i].send({ cmd: 'profile' });
      const p = (await exporters[i].expect((m) => m.profile !== undefined, 'profile')).profile;
      profile[`newest-${counts[i]}`] = p.newest;
      profile[`cached-${counts[i]}`] = p.cached;
      profile[`first-exports-${counts[i]}`] = p.first;
    }
  }
  for (let i = 0; i < exporters.length; i++) {
    exporters[i].send({ cmd: 'exit' });
    const closed = await exporters[i].expect((m) => m.closed, 'the exporter to close its sockets');
    results[i].handle_count_after_close = closed.handle_count;
    const exit = await exporters[i].exited;
    if (exit.code !== 0) throw new Error(`exporter(${counts[i]} others) exited with code ${exit.code}`);
  }

  const scenarios = {};
  counts.forEach((n, i) => {
    const r = results[i];
    scenarios[String(n)] = {
      requested: r.requested,
      opened: r.opened,
      open_ms: r.open_ms,
      error: r.error,
      handle_count: r.handle_count,
      handle_count_after_close: r.handle_count_after_close,
      first_exports_after_opening_us: r.first_exports_after_opening_us,
      newest_us: summarize(r.newest),
      cached_us: summarize(r.cached),
    };
  });
  return { scenarios, profile };
}

// ---------------------------------------------------------------------------------------------
// Reporting.


const ratio = (a, b) => (a && b && a.median !== null && b.median ? Math.round((a.median / b.median) * 100) / 100 : null);

function printTable(token, profile) {
  const [few, many] = CONFIG.others;
  const rows = [
    ['export, one connected socket (repeated)', token.export_us],
    ['import + close, in the target process', token.import_us],
    [`export newest connection, ${few} others`, token.scenarios[few].newest_us],
    [`export newest connection, ${many} others`, token.scenarios[many].newest_us],
    [`export cached socket, ${few} others`, token.scenarios[few].cached_us],
    [`export cached socket, ${many} others`, token.scenarios[many].cached_us],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const fmt = (v) => (v === null || v === undefined ? '-' : v.toFixed(1));
  const lines = [
    `socket-handoff token bench: ${token.platform}${token.under_wine ? ` under Wine ${token.wine_version || ''}` : ''}, node ${token.node}, ${token.cpus} CPUs`,
    `${'measurement'.padEnd(w)}  ${'median µs'.padStart(10)}  ${'p90 µs'.padStart(10)}  ${'n'.padStart(6)}`,
  ];
  for (const [name, s] of rows) {
    lines.push(`${name.padEnd(w)}  ${fmt(s.median).padStart(10)}  ${fmt(s.p90).padStart(10)}  ${String(s.n).padStart(6)}`);
  }
  for (const n of CONFIG.others) {
    const s = token.scenarios[n];
    lines.push(
      `${n} others: opened ${s.opened}/${s.requested} in ${s.open_ms} ms; first 3 exports after opening: ${(s.first_exports_after_opening_us || []).join(', ')} µs` +
        (s.error ? `; error: ${s.error.code || ''} ${s.error.message} (after ${s.error.after})` : ''),
    );
  }
  lines.push(`export_ratio_5000_vs_10 (newest connection) = ${token.export_ratio_5000_vs_10}  (goal <= ${GOAL_RATIO}: ${token.goal_met ? 'met' : 'NOT met'})`);
  lines.push(`cached_export_ratio_5000_vs_10            = ${token.cached_export_ratio_5000_vs_10}`);
  if (profile) {
    lines.push('', 'profile, per export (median / p90 / max); lookup = findSocketByKey, duplicate = WSADuplicateSocketW:');
    for (const [name, p] of Object.entries(profile)) {
      if (!p) continue;
      if (Array.isArray(p)) {
        const one = (x) => `lookup ${round1(x.find_us)} µs, duplicate ${round1(x.duplicate_us)} µs, ${x.uvFileno} TCP handles, ${x.getsockname} getsockname`;
        lines.push(`  ${name}: ${p.map(one).join(' | ')}`);
        continue;
      }
      const f = (k) => (p[k] ? `${p[k].median} / ${p[k].p90} / ${p[k].max}` : '-');
      lines.push(
        `  ${name.padEnd(12)} lookup µs ${f('find_us')}; duplicate µs ${f('duplicate_us')}; TCP handles visited ${f('uvFileno')}; ` +
          `getsockname calls ${f('getsockname')}; exports visiting > 100 handles: ${p.long_walks}/${p.n}`,
      );
    }
  }
  console.log(lines.join('\n'));
}

function writeResults(token) {
  mergeResults('token', token);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const started = process.hrtime.bigint();
  const wine = detectWine();
  const handleCountStart = processHandleCount();
  const importer = startImporter();
  await importer.ready();

  const exportUs = await measureExportImport(importer);
  const { scenarios, profile } = await measureWithOthers(importer);
  const childReport = await importer.report();
  if (childReport.failed > 0) throw new Error(`import child failures: ${JSON.stringify(childReport.errors)}`);
  const importerExit = await importer.stop();
  if (importerExit.code !== 0) throw new Error(`the import child exited with code ${importerExit.code}`);

  const [few, many] = CONFIG.others.map((n) => scenarios[n]);
  const complete = few.opened === few.requested && many.opened === many.requested;
  const exportRatio = ratio(many.newest_us, few.newest_us);
  const token = {
    ...runEnvironment(wine),
    export_us: exportUs,
    import_us: childReport.report.import || summarize([]),
    export_with_10_others_us: few.newest_us,
    export_with_5000_others_us: many.newest_us,
    export_ratio_5000_vs_10: exportRatio,
    cached_export_with_10_others_us: few.cached_us,
    cached_export_with_5000_others_us: many.cached_us,
    cached_export_ratio_5000_vs_10: ratio(many.cached_us, few.cached_us),
    goal: `export_ratio_5000_vs_10 <= ${GOAL_RATIO}`,
    goal_met: complete && exportRatio !== null && exportRatio <= GOAL_RATIO,
    scenarios,
    handle_count: { start: handleCountStart, end: processHandleCount() },
    notes: [
      'Times in µs from process.hrtime.bigint() around each call; median and nearest-rank p90 after warm-up.',
      'export_us: exportSocket() of one accepted connection again and again (its SOCKET is cached after the first export), in the main bench process. One token per export, each imported once by the import child.',
      'import_us: importSocket(token) + close(), timed inside the import child (the target process).',
      'export_with_N_others_us: in an exporter process that holds N other open TCP sockets (N/2 clients of a local server + the N/2 ends it accepted; plus 2 listening sockets), accept a new connection, then exportSocket() it; repeated with a new connection each time. cached_*: repeated export of the oldest of those N sockets.',
      'The 10- and 5000-socket exporters run at the same time and measure in alternating blocks, so slow spells of the machine hit both; first_exports_after_opening_us are the first exports after the N sockets were opened (warm-up, not in the medians).',
      'cpu_pinning: off Windows the bench pins itself and the Wine processes it starts to one CPU; otherwise the wineserver round trip behind every Winsock call costs about ten times more in whichever process the scheduler happens to place away from the wineserver, for seconds at a time.',
      'handle_count is null under Wine: GetProcessHandleCount is a stub there that reports 0.',
      'Only ratios are meaningful: absolute timings under Wine are nothing like Windows.',
    ],
    config: CONFIG,
    duration_s: round1(Number(process.hrtime.bigint() - started) / 1e9),
  };
  if (!complete) token.notes.push('Not every requested socket could be opened (see scenarios.*.error); goal_met is false because the comparison is incomplete.');

  printTable(token, profile);
  if (PROFILE) {
    console.log('\n--profile: bench-results.json not written (the profiling wrappers add overhead).');
  } else {
    writeResults(token);
    console.log(`\nwrote ${RESULTS_FILE} (key "token")`);
  }
}

const watchdog = setTimeout(() => {
  console.error(`bench: no result after ${CONFIG.deadlineMs / 1000} s; giving up`);
  for (const c of children) c.kill();
  process.exit(2);
}, CONFIG.deadlineMs);
watchdog.unref();

main().then(
  () => {
    clearTimeout(watchdog);
    return require('./bench-channel').run(); // then the channel benchmark (scripts/bench-channel.js)
  },
  (err) => {
    console.error('bench failed:', err && err.stack ? err.stack : err);
    for (const c of children) c.kill();
    process.exit(1);
  },
);
