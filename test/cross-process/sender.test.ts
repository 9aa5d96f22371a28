/**
 * SocketSender (src/channel/sender.ts) between unrelated processes: a socket whose send() fails is
 * given back exactly as it was, with the README's front (net.createServer + send().catch(serve
 * locally)). Runs fixtures/channel-giveback.js on every channel runtime: Windows Node under Wine
 * (natively on Windows) and Linux Node natively.
 */
import { CHANNEL_RUNTIMES, isLinuxLine, runFixture } from './fixture-runner';

const fixture = async (line: string, ...args: string[]) => {
  const { status, result } = await runFixture<any>('channel-giveback.js', args, line);
  expect(result.error).toBeUndefined();
  expect(status).toBe(0);
  return result;
};

const localOnly = { worker: 0, local: 3, bad: [] };

describe.each(CHANNEL_RUNTIMES)('send() gives a socket back, $label', ({ line }) => {
  const linux = isLinuxLine(line);
  // 'reading': no pauseOnConnect, so Node has read ahead into the stream (bytes that must travel or come back).
  const modes = linux ? ['paused', 'reading', 'flowing'] : ['paused', 'flowing'];

  it.each(modes)('on every failure code, intact and answered once by the front (%s socket)', async (mode) => {
    const r = await fixture(line, 'codes', mode);
    const expected: Record<string, { code: string; reason?: string }> = {
      declined: { code: 'ERR_HANDOFF_REFUSED', reason: 'ERR_HANDOFF_DECLINED' },
      tooLarge: { code: 'ERR_FRAME_TOO_LARGE' },
      timeout: { code: 'ERR_HANDOFF_TIMEOUT' },
      gone: { code: 'ERR_RECEIVER_GONE' },
      closed: { code: 'ERR_CHANNEL_CLOSED' },
      ...(linux ? { busy: { code: 'ERR_HANDOFF_REFUSED', reason: 'ERR_RECEIVER_BUSY' } } : {}),
    };
    expect(Object.keys(r).sort()).toEqual(Object.keys(expected).sort());
    for (const [label, want] of Object.entries(expected)) {
      const c = r[label];
      // Every client answered exactly once, by the front, with every byte it sent, in order.
      expect({ label, answers: c.answers }).toEqual({ label, answers: localOnly });
      expect(c.failures.length).toBeGreaterThanOrEqual(3);
      for (const f of c.failures) expect(f).toEqual({ ...want, destroyed: false, paused: mode === 'paused' });
      expect(c.clientErrors).toEqual([]);
      // None of the three failed hand-offs was served by the receiver.
      if (c.adopted) expect(c.adopted.filter((n: number) => n <= 3)).toEqual([]);
    }
    // The same channel goes on: a refusal keeps refusing, a fixed cause lets the next hand-off through.
    expect(r.declined.afterAnswer).toEqual({ worker: 0, local: 1, bad: [] });
    expect(r.tooLarge.afterAnswer).toEqual({ worker: 1, local: 0, bad: [] });
    expect(r.timeout.afterAnswer).toEqual({ worker: 1, local: 0, bad: [] });
    expect(r.closed.afterAnswer).toEqual({ worker: 0, local: 1, bad: [] });
    if (linux) expect(r.busy.afterAnswer).toEqual({ worker: 1, local: 0, bad: [] });
  });

  it('a receiver stopped past ackTimeout costs nothing: the front serves, the receiver serves none of those, the channel goes on', async () => {
    const r = await fixture(line, 'stopped');
    expect(r.during).toEqual({ worker: 0, local: 20, bad: [] });
    expect(r.codes).toEqual(['ERR_HANDOFF_TIMEOUT']);
    expect(r.adoptedWhileStopped).toEqual([]);
    expect(r.afterwards).toEqual({ worker: 10, local: 0, bad: [] });
    expect(r.adopted).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(r.clientErrors).toEqual([]);
  });

  it('a receiver refusing every other hand-off: each connection answered exactly once, by one side', async () => {
    const r = await fixture(line, 'alternate');
    expect(r.all).toEqual({ worker: 20, local: 20, bad: [] });
    expect(r.reasons).toEqual(['ERR_HANDOFF_DECLINED']);
    expect(r.adopted).toBe(20);
    expect(r.clientErrors).toEqual([]);
  });

  (linux ? it : it.skip)(`a burst of 120 connections at a receiver limited to 48 descriptors is refused in part, never broken${linux ? '' : ' (Linux only: descriptor limits)'}`, async () => {
    const r = await fixture(line, 'burst');
    expect(r.burst.bad).toEqual([]);
    expect(r.burst.worker + r.burst.local).toBe(120);
    // The limit was really reached, and every refusal was the receiver's shortage.
    expect(r.reasons).toEqual({ ERR_RECEIVER_BUSY: r.burst.local });
    expect(r.burst.local).toBeGreaterThan(0);
    expect(r.receiverAlive).toBe(true);
    expect(r.clientErrors).toEqual([]);
    expect(r.afterwards).toEqual({ worker: 20, local: 0, bad: [] });
  });
});
