'use strict';
/**
 * Native Linux only (scripts/bench-channel-linux.js): CPU affinity with taskset, the way
 * scripts/on-windows.js pinToOneCpu() pins, and a look at /proc for other programs (a test run, Wine)
 * that share the CPUs. Child processes started after setCpus() inherit the affinity.
 */
const fs = require('node:fs');
const os = require('node:os');
const { spawnSync } = require('node:child_process');

function read(file) {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

/** The CPUs Linux has online, as a list like "0-1" (every CPU the bench may use). */
function onlineCpus() {
  const online = read('/sys/devices/system/cpu/online');
  return online ? online.trim() : `0-${os.cpus().length - 1}`;
}

/** The CPUs this process may run on, as Linux lists them ("0", "0-1"). */
function allowedCpus(pid = 'self') {
  const status = read(`/proc/${pid}/status`);
  const m = status && status.match(/^Cpus_allowed_list:\s*(\S+)/m);
  return m ? m[1] : null;
}

/** Sets the affinity of every thread of this process to `list` with taskset; { ok, error }. */
function setCpus(list) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, error: null };
  return { ok: false, error: (r.error && r.error.message) || String(r.stderr).trim() || `exit status ${r.status}` };
}

/** pid -> { ppid, state } of every process (state 'Z': a zombie), from /proc/<pid>/stat. */
function processTable() {
  const map = new Map();
  let entries = [];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return map;
  }
  for (const pid of entries) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    map.set(Number(pid), { ppid: Number(ppid), state });
  }
  return map;
}

/** A Node or Wine program, by the file name of its argv[0] (Node's main thread may be named MainThread). */
const OTHER = /^(node|node\.exe|.*\.exe|wineserver|wine(64)?(-preloader)?)$/i;
function isNodeOrWine(pid) {
  const cmd = read(`/proc/${pid}/cmdline`);
  const argv0 = cmd ? cmd.split('\0')[0].split(/[\\/]/).pop() : '';
  const comm = (read(`/proc/${pid}/comm`) || '').trim();
  return OTHER.test(argv0) || OTHER.test(comm) || comm === 'MainThread';
}

/**
 * How many live Node or Wine processes exist that are neither this process's ancestors nor its
 * descendants: other programs (a test run) that may compete for the CPUs. Zombies do not count:
 * they use no CPU, and where PID 1 does not reap (a container), Wine's exited processes stay as
 * zombies. null where /proc is unreadable.
 */
function otherNodeOrWineProcesses() {
  const table = processTable();
  if (table.size === 0) return null;
  const parentOf = (pid) => (table.get(pid) || { ppid: 0 }).ppid;
  const ancestors = new Set();
  for (let p = process.pid; p > 0 && !ancestors.has(p); p = parentOf(p)) ancestors.add(p);
  const isDescendant = (pid) => {
    for (let p = pid, hops = 0; p > 0 && hops < 64; p = parentOf(p), hops++) if (p === process.pid) return true;
    return false;
  };
  let n = 0;
  for (const [pid, { state }] of table) if (state !== 'Z' && !ancestors.has(pid) && !isDescendant(pid) && isNodeOrWine(pid)) n++;
  return n;
}

module.exports = { onlineCpus, allowedCpus, setCpus, otherNodeOrWineProcesses };
