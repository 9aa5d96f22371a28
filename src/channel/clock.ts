/**
 * The clock both ends of a protocol-2 channel read: the machine's monotonic clock in whole
 * microseconds (libuv's uv_hrtime: CLOCK_MONOTONIC on Linux, QueryPerformanceCounter on Windows),
 * which every process on one machine shares. Deadlines in `socket` frames are on this clock.
 */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
