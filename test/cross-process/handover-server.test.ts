/**
 * Zero-downtime restart with HandoverServer (src/handover-server.ts) and the channel: a server hands
 * its listening socket to a successor that knows only the channel name, and exits; twice, while 32
 * clients keep connecting. Every connection must be answered: none refused, reset or left silent.
 * On Windows (Wine) and natively on Linux.
 */
import { CHANNEL_RUNTIMES, runFixture } from './fixture-runner';

describe.each(CHANNEL_RUNTIMES)('zero-downtime restart, $label', ({ line }) => {
  it('answers every connection across two hand-overs of the listening socket', async () => {
    const { status, result: r } = await runFixture<any>('restart.js', ['2'], line);
    expect(r.error).toBeUndefined();
    expect(status).toBe(0);
    expect(r.sampleFailures).toEqual([]);
    expect(r.failures).toBe(0);
    expect(r.answered).toBe(r.total);
    expect(r.total).toBeGreaterThan(1000);
    // Three generations served, each received the listener as a HandoverServer, the old ones exited cleanly.
    expect(Object.keys(r.byPid)).toHaveLength(3);
    expect(r.generations.map((g: any) => g.kind)).toEqual(['HandoverServer', 'HandoverServer', 'HandoverServer']);
    expect(r.generations.slice(0, 2).map((g: any) => g.exit)).toEqual([0, 0]);
  });
});
