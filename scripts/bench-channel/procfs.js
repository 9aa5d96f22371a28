'use strict';
/**
 * Under Wine only: Linux's /proc, read from Windows Node (Wine maps / to Z:, and a Windows process
 * is a Linux process). Used by scripts/bench-channel.js to see what no Windows API shows: the CPU
 * time of the wineserver (every Winsock call under Wine is a round trip to it), the busy time of
 * the CPUs, and the wineserver's CPU affinity. (/proc/self is no use from here: it does not show
 * this process's affinity; affinity.js asks Windows instead.) Every function returns null where
 * /proc cannot be read (real Windows). The native Linux bench (scripts/bench-channel-linux.js) uses
 * snapshot([]) / diff() too, for the CPUs' busy time only.
 */
const fs = require('node:fs');

const TICK_US = 10000; // USER_HZ is 100 on Linux x86-64

function read(file) {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
}

/** utime + stime of a Linux process, µs. */
function processCpuUs(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

function cpusAllowed(pid) {
  const status = read(`/proc/${pid}/status`);
  const m = status && status.match(/^Cpus_allowed_list:\s*(\S+)/m);
  return m ? m[1] : null;
}

/** The wineserver(s) of this Wine prefix (all wineservers if the prefix cannot be told). */
function wineservers() {
  let entries;
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  const prefix = process.env.WINEPREFIX;
  const all = [];
  for (const pid of entries) {
    const cmd = read(`/proc/${pid}/cmdline`);
    if (!cmd || !/wineserver/.test(cmd.split('\0')[0])) continue;
    const env = read(`/proc/${pid}/environ`);
    const ownPrefix = env && prefix ? env.split('\0').includes(`WINEPREFIX=${prefix}`) : null;
    all.push({ pid, ownPrefix });
  }
  const mine = all.filter((w) => w.ownPrefix === true);
  return (mine.length ? mine : all).map((w) => w.pid);
}

/** Busy time (everything but idle and iowait) of each CPU, µs: { cpu: total, cpu0: ..., ... }. */
function cpuBusyUs() {
  const stat = read('/proc/stat');
  if (stat === null) return null;
  const out = {};
  for (const line of stat.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [name, ...v] = line.trim().split(/\s+/);
    const n = v.map(Number);
    out[name] = (n[0] + n[1] + n[2] + n[5] + n[6] + n[7]) * TICK_US;
  }
  return out;
}

/** A snapshot to diff later: this process's allowed CPUs, the wineserver's CPU time, busy CPU time. */
function snapshot(serverPids) {
  const servers = serverPids || wineservers();
  if (!servers) return null;
  let wineserverUs = 0;
  for (const pid of servers) wineserverUs += processCpuUs(pid) || 0;
  return { servers, wineserverUs, busy: cpuBusyUs() };
}

/** What happened between two snapshots, µs. `cpu` names the pinned CPU ('cpu0'), or 'cpu' for all. */
function diff(a, b, cpu) {
  if (!a || !b) return null;
  const busy = a.busy && b.busy && a.busy[cpu] !== undefined ? b.busy[cpu] - a.busy[cpu] : null;
  return { wineserver_us: b.wineserverUs - a.wineserverUs, busy_us: busy };
}

/** Allowed CPUs of the wineserver(s), as Linux lists them ("0", "0-1"). */
function wineserverCpus(serverPids) {
  const servers = serverPids || wineservers();
  return servers ? servers.map((pid) => cpusAllowed(pid)) : null;
}

/**
 * How many node.exe processes are running that are not this bench's (their command line names none
 * of `ownMarkers`): other Wine programs, e.g. a test run, that share the CPUs and, with the same
 * Wine prefix, the wineserver.
 */
function foreignNodeProcesses(ownMarkers) {
  let entries;
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  let n = 0;
  for (const pid of entries) {
    const cmd = read(`/proc/${pid}/cmdline`);
    if (!cmd || !/node\.exe/i.test(cmd) || /wine(64)?(-preloader)?\0/.test(cmd)) continue;
    if (!ownMarkers.some((m) => cmd.includes(m))) n++;
  }
  return n;
}

module.exports = { snapshot, diff, wineserverCpus, wineservers, foreignNodeProcesses };
