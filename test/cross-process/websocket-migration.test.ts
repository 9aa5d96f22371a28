/**
 * A live WebSocket of the `ws` package moves between worker processes while its client keeps
 * talking (sendWebSocket / attachWebSocket over the hand-off channel), on every supported Node
 * line. The fixture (fixtures/websocket-migration.js) runs a dispatcher, two workers and the clients;
 * its scenarios are described there.
 */
import { CHANNEL_RUNTIMES, runFixture } from './fixture-runner';

interface Echo {
  seq: number;
  n: number;
  worker: string;
  pid: number;
  size: number;
}

interface WorkerEvent {
  event: string;
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Run {
  echoes: Echo[];
  events: unknown[];
  opens: number;
  closeCode?: number;
  timedOut?: boolean;
  worker: WorkerEvent[];
}

interface Stretch {
  worker: string;
  pid: number;
  from: number;
  to: number;
}

/** Consecutive echoes from one process. */
function stretches(echoes: Echo[]): Stretch[] {
  const out: Stretch[] = [];
  for (const e of echoes) {
    const last = out[out.length - 1];
    if (last && last.pid === e.pid) last.to = e.seq;
    else out.push({ worker: e.worker, pid: e.pid, from: e.seq, to: e.seq });
  }
  return out;
}

/** Every message echoed once, in order, and the connection's count carried across processes. */
function expectUnbroken(run: Run, count: number): void {
  expect(run.timedOut).toBeUndefined();
  expect(run.echoes.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  expect(run.echoes.map((e) => e.n)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  // The client saw one 'open', then no 'error' and no 'close' until it closed the WebSocket itself.
  expect(run.opens).toBe(1);
  expect(run.events).toEqual([]);
  expect(run.closeCode).toBe(1000);
}

const moves = (run: Run) => run.worker.filter((e) => e.event === 'ws-move');
const resumes = (run: Run) => run.worker.filter((e) => e.event === 'ws-resume');

describe.each(CHANNEL_RUNTIMES)('WebSocket migration across processes, $label', ({ line }) => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let run: { status: number | null; result: any; stdout: string; stderr: string };
  let pids: { A: number; B: number };

  beforeAll(async () => {
    run = await runFixture('websocket-migration.js', [], line);
    pids = run.result.pids;
  });

  it('runs every scenario and stops its workers', () => {
    expect(run.result.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.result.workerExitCodes).toEqual([0, 0]);
    for (const d of run.result.dispatched) expect(d.error).toBeUndefined();
  });

  it('hands HTTP connections with their request head to the workers, keep-alive and half-close included', () => {
    const { first, second, kept, halfClosed } = run.result.http;
    expect(first).toMatchObject({ status: 200, worker: 'A', pid: pids.A, url: '/one', requestOnConnection: 1 });
    expect(second).toMatchObject({ status: 200, worker: 'B', pid: pids.B, url: '/two', requestOnConnection: 1 });
    // The second request travels on the connection worker A already holds.
    expect(kept[0]).toMatchObject({ status: 200, pid: pids.A, url: '/kept?worker=A', requestOnConnection: 1 });
    expect(kept[1]).toMatchObject({ status: 200, pid: pids.A, url: '/kept-again', requestOnConnection: 2, reusedSocket: true });
    expect(halfClosed).toMatchObject({ url: '/half', requestOnConnection: 1 });
    expect([pids.A, pids.B]).toContain(halfClosed.pid);
  });

  it('moves a live WebSocket A -> B -> A while the client sends: no gap, no duplicate, no reconnect', () => {
    const main: Run = run.result.main;
    expectUnbroken(main, 100);
    const s = stretches(main.echoes);
    expect(s.map((x) => [x.worker, x.pid])).toEqual([
      ['A', pids.A],
      ['B', pids.B],
      ['A', pids.A],
    ]);
    const [first, second] = moves(main);
    expect(moves(main)).toHaveLength(2);
    expect(first).toMatchObject({ from: 'A', to: 'B', ok: true, triggeredAt: 40, readyStateWhileDetached: 2, readyStateAfter: 3 });
    expect(second).toMatchObject({ from: 'B', to: 'A', ok: true, triggeredAt: 70, readyStateWhileDetached: 2, readyStateAfter: 3 });
    // Each process answered up to the echo count it handed over; the next one went on from there.
    expect(s[0].to).toBe(first.n);
    expect(s[1].to).toBe(second.n);
    expect(first.n).toBeGreaterThanOrEqual(40);
    expect(second.n).toBeGreaterThanOrEqual(70);
    // Bytes Node had read but ws had not parsed (the client's next frames, here the first fragment
    // of message 41) went along and were parsed first by the next worker.
    expect(first.headBytes).toBeGreaterThan(0);
    expect(second.headBytes).toBeGreaterThan(0);
    expect(resumes(main).map((r) => [r.worker, r.from, r.fromPid, r.n, r.headBytes])).toEqual([
      ['B', 'A', pids.A, first.n, first.headBytes],
      ['A', 'B', pids.B, second.n, second.headBytes],
    ]);
    // The client closed normally, with the worker that holds the WebSocket last.
    expect(main.worker.filter((e) => e.event === 'ws-close')).toEqual([{ event: 'ws-close', id: 'main', worker: 'A', code: 1000, n: 100 }]);
  });

  it('carries a 1 MiB frame split between the bytes A read and the bytes still in the kernel', () => {
    const big: Run = run.result.big;
    expectUnbroken(big, 8);
    expect(big.echoes[4]).toMatchObject({ seq: 5, size: 1024 * 1024 });
    const [move] = moves(big);
    expect(move).toMatchObject({ from: 'A', to: 'B', ok: true });
    expect(move.headBytes).toBeGreaterThan(0);
    const s = stretches(big.echoes);
    expect(s.map((x) => x.pid)).toEqual([pids.A, pids.B]);
    expect(s[0].to).toBe(move.n);
  });

  it('lets ws finish a 4 MiB frame it was in the middle of parsing before the WebSocket moves', () => {
    const mid: Run = run.result.midFrame;
    expectUnbroken(mid, 8);
    const [move] = moves(mid);
    expect(move).toMatchObject({ from: 'A', to: 'B', ok: true, midMessage: true });
    // A parsed and answered the big message itself, then handed the WebSocket over.
    expect(mid.echoes[4]).toMatchObject({ seq: 5, size: 4 * 1024 * 1024, pid: pids.A });
    expect(move.n).toBeGreaterThanOrEqual(5);
    const s = stretches(mid.echoes);
    expect(s.map((x) => x.pid)).toEqual([pids.A, pids.B]);
    expect(s[0].to).toBe(move.n);
  });

  it('gives the WebSocket back to ws when the hand-off fails, and it keeps working', () => {
    const refused: Run = run.result.refused;
    expectUnbroken(refused, 20);
    const [move] = moves(refused);
    expect(move).toMatchObject({ ok: false, readyStateWhileDetached: 2, readyStateAfter: 1 });
    expect(move.error.code).toBe('ERR_CHANNEL_CLOSED');
    expect(new Set(refused.echoes.map((e) => e.pid))).toEqual(new Set([pids.A]));
    expect(resumes(refused)).toEqual([]);
  });
});
