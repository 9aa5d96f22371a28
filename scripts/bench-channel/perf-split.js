'use strict';
/**
 * Where the CPU of a native Linux bench run goes, per bench process, kernel included: reads the
 * text of `perf script` and splits each process's samples into user space (Node: V8, libuv and the
 * JavaScript it runs; libc; koffi) and the kernel (by system call, page faults, interrupts).
 * process.cpuUsage() gives one number per process and --cpu-prof sees JavaScript only; this shows
 * what a hand-off costs in the kernel against what it costs in JavaScript.
 *
 *   BENCH_CHANNEL_PASSES=one_cpu perf record -e cpu-clock -F 10000 -a -g -o /tmp/perf.data -- node scripts/bench-channel-linux.js
 *   perf script -i /tmp/perf.data -F comm,pid,tid,ip,sym,dso | node scripts/bench-channel/perf-split.js [--connections N] [--hz 10000]
 *
 * Every bench process names itself `<scenario>:<role>` (common.js nameProcess()); the load
 * generator is `bench:load`. The threads of a process (V8's compilers and GC, libuv's pool) count
 * with it. With --connections N (connections each scenario served while perf recorded: warm-up,
 * rounds and one-at-a-time runs) the table is in µs per connection, otherwise in ms. -F 10000 is
 * one sample per 100 µs of CPU: a cell below 1 µs per connection over 10,000 connections rests on
 * fewer than 100 samples. Recorded at another rate, pass it as --hz (the -F value): the script
 * turns sample counts into time with it.
 */
const readline = require('node:readline');

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const connections = Number(arg('--connections')) || 0;
const hz = Number(arg('--hz')) || 10000;
const ROLE = /^[a-z_]+:[a-z]+$/;

/** pid -> Map(category -> samples); pid -> the main thread's name (its bench role). */
const byPid = new Map();
const names = new Map();

function category(frames) {
  const [leafSym, leafDso] = frames[0];
  if (leafDso !== '[kernel.kallsyms]') {
    const file = leafDso.split('/').pop();
    if (file === 'node' || file.startsWith('perf-') || file.startsWith('[JIT')) return 'user: Node (V8, libuv, JavaScript)';
    if (file.startsWith('libc.so')) return 'user: libc';
    if (file === 'koffi.node') return 'user: koffi';
    return 'user: other';
  }
  const syms = frames.map((f) => f[0]);
  const entry = syms.indexOf('do_syscall_64');
  if (entry > 0) return `kernel: ${syms[entry - 1].replace(/^(__x64_sys_|__do_sys_|ksys_|__sys_)/, '')}()`;
  if (syms.includes('asm_exc_page_fault')) return 'kernel: page faults';
  if (syms.some((s) => /irq|interrupt/.test(s))) return 'kernel: interrupts';
  return `kernel: other (${leafSym})`;
}

let head = null;
let frames = [];
function flush() {
  if (head && frames.length > 0) {
    const { comm, pid, tid } = head;
    if (pid === tid && ROLE.test(comm)) names.set(pid, comm);
    if (!byPid.has(pid)) byPid.set(pid, new Map());
    const counts = byPid.get(pid);
    const key = category(frames);
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  head = null;
  frames = [];
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (line.trim() === '') return flush();
  if (line[0] !== ' ' && line[0] !== '\t') {
    flush();
    // "<comm> <pid>/<tid>" (comm may hold spaces)
    const m = line.match(/^(.*?)\s+(\d+)\/(\d+)\s*$/);
    if (m) head = { comm: m[1], pid: Number(m[2]), tid: Number(m[3]) };
    return;
  }
  const m = line.match(/^\s*[0-9a-f]+ (.*) \((.*)\)\s*$/);
  if (m && head) frames.push([m[1].replace(/\+0x[0-9a-f]+$/, ''), m[2]]);
});
rl.on('close', () => {
  flush();
  // One column per role; a pid that carried a role's name only between fork and exec adds to it.
  const byRole = new Map();
  for (const [pid, name] of names) {
    if (!byRole.has(name)) byRole.set(name, new Map());
    for (const [k, n] of byPid.get(pid)) byRole.get(name).set(k, (byRole.get(name).get(k) || 0) + n);
  }
  const roles = [...byRole.keys()].sort();
  if (roles.length === 0) {
    console.error('perf-split: no bench process found (are the samples from scripts/bench-channel-linux.js, and was comm in the -F fields?)');
    process.exit(1);
  }
  // The load generator serves every scenario: its column is per connection of all of them.
  const scenarios = new Set(roles.map((r) => r.split(':')[0]).filter((s) => s !== 'bench')).size;
  const scale = (role) => (connections > 0 ? 1e6 / hz / connections / (role === 'bench:load' ? scenarios : 1) : 1e3 / hz);
  const unit = connections > 0 ? `µs per connection (${connections} per scenario; bench:load per connection of all ${scenarios} scenarios)` : 'ms';
  const totals = new Map();
  for (const role of roles) for (const [k, n] of byRole.get(role)) totals.set(k, (totals.get(k) || 0) + n);
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const width = Math.max(...rows.map((r) => r.length), 5) + 2;
  const cell = (v) => v.toFixed(1).padStart(16);
  console.log(unit);
  console.log(''.padEnd(width) + roles.map((role) => role.padStart(16)).join(''));
  const sum = (role) => [...byRole.get(role).values()].reduce((a, b) => a + b, 0);
  console.log('total'.padEnd(width) + roles.map((role) => cell(sum(role) * scale(role))).join(''));
  for (const row of rows) {
    const values = roles.map((role) => (byRole.get(role).get(row) || 0) * scale(role));
    if (Math.max(...values) < (connections > 0 ? 0.5 : 1)) continue;
    console.log(row.padEnd(width) + values.map(cell).join(''));
  }
});
