'use strict';
/**
 * CPU affinity of this Windows process, through kernel32 (koffi). Child processes started
 * afterwards inherit it, on Windows and under Wine alike (Wine applies it to the Linux threads with
 * sched_setaffinity; checked with /proc/<pid>/task/*\/status from the Linux side). This lets the
 * channel bench measure with all CPUs and pinned to one CPU in the same run, whatever affinity it
 * was started with. It cannot move the wineserver, which is not a Windows process.
 */
const koffi = require('koffi');

let api;
function kernel32() {
  if (!api) {
    const k32 = koffi.load('kernel32.dll');
    api = {
      GetCurrentProcess: k32.func('void * __stdcall GetCurrentProcess()'),
      GetProcessAffinityMask: k32.func('bool __stdcall GetProcessAffinityMask(void *hProcess, _Out_ uintptr_t *lpProcessAffinityMask, _Out_ uintptr_t *lpSystemAffinityMask)'),
      SetProcessAffinityMask: k32.func('bool __stdcall SetProcessAffinityMask(void *hProcess, uintptr_t dwProcessAffinityMask)'),
    };
  }
  return api;
}

/** { process, system } affinity masks as BigInt. */
function getAffinity() {
  const k = kernel32();
  const p = [0];
  const s = [0];
  if (!k.GetProcessAffinityMask(k.GetCurrentProcess(), p, s)) throw new Error('GetProcessAffinityMask failed');
  return { process: BigInt(p[0]), system: BigInt(s[0]) };
}

function setAffinity(mask) {
  const k = kernel32();
  if (!k.SetProcessAffinityMask(k.GetCurrentProcess(), Number(mask))) throw new Error(`SetProcessAffinityMask(0x${mask.toString(16)}) failed`);
}

/** CPU numbers of a mask, as a list like "0" or "0-1" or "0,2". */
function maskToList(mask) {
  const cpus = [];
  for (let i = 0n; i < 64n; i++) if (mask & (1n << i)) cpus.push(Number(i));
  const parts = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return parts.join(',');
}

module.exports = { getAffinity, setAffinity, maskToList };
