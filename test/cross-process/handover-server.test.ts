/**
 * HandoverServer (src/handover-server.ts), on Windows (Wine) and natively on Linux:
 * - it behaves as a net.Server: the same script drives both and their events are compared;
 * - the fast front: listen({ sendTo }) hands accepted connections raw to receivers;
 * - zero-downtime restart with the channel: a server hands its listening socket to a successor that
 *   knows only the channel name, and exits; twice, while 32 clients keep connecting. Every
 *   connection must be answered: none refused, reset or left silent.
 */
import { CHANNEL_RUNTIMES, NODE_LINES, runFixture } from './fixture-runner';

const PARITY_RUNTIMES = CHANNEL_RUNTIMES.filter(({ line }) => NODE_LINES.includes(line) || line === 'linux');

describe.each(PARITY_RUNTIMES)('HandoverServer beside net.Server, $label', ({ line }) => {
  it('emits what a net.Server emits for the same calls: listen errors, listen twice, maxConnections and drop, getConnections, ref/unref, close', async () => {
    const { status, result: r } = await runFixture<any>('server-parity.js', [], line);
    expect(r.error).toBeUndefined();
    expect(status).toBe(0);
    // Both let the process exit while an unref'd server still listens.
    expect(r.exitedWithUnrefdServers).toBe(true);
    // The differences docs/api.md documents: `listening` is true as soon as listen() returns, where
    // net.Server, given a host, resolves it first; and the server's 'close' follows the accepted
    // socket's own 'close' event (net.Server's comes a tick before it).
    const documented = /^listening after the tick: |^accepted socket close$/;
    expect(r.net.find((l: string) => /^listening after/.test(l))).toBe('listening after the tick: false -> true, IPv4');
    expect(r.handover.find((l: string) => /^listening after/.test(l))).toBe('listening after the tick: true -> true, IPv4');
    const closeOrder = (log: string[]) => log.filter((l) => l === 'accepted socket close' || l === 'close').slice(0, 2);
    expect(closeOrder(r.net)).toEqual(['close', 'accepted socket close']);
    expect(closeOrder(r.handover)).toEqual(['accepted socket close', 'close']);
    expect(r.handover.filter((l: string) => !documented.test(l))).toEqual(r.net.filter((l: string) => !documented.test(l)));
    // And the script saw what it is about.
    expect(r.handover).toEqual(
      expect.arrayContaining([
        'second listen throws ERR_SERVER_ALREADY_LISTEN',
        'busy port: error event EADDRINUSE, listening false, address null',
        'connections while closing: 1',
        'close when closed: ERR_SERVER_NOT_RUNNING',
        "a ref'd server kept the process alive: true",
      ]),
    );
    const order = ['client ends', 'close', 'close callback: ok'];
    const at = order.map((l) => r.handover.indexOf(l, r.handover.indexOf('connections while closing: 1')));
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });
});

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

describe.each(CHANNEL_RUNTIMES)('the fast front, HandoverServer.listen({ sendTo }), $label', ({ line }) => {
  it('hands accepted connections raw to receivers round robin, skips refusing or gone ones, and serves what none takes as a connection', async () => {
    const { status, result: r } = await runFixture<any>('handover-sendto.js', [], line);
    expect(r.error).toBeUndefined();
    expect(status).toBe(0);
    const { a, b, front } = r.pids;
    // Round robin over two receivers: each serves half, every client answered once, nothing leaked.
    expect(r.roundRobin).toEqual({ by: { [`worker ${a}`]: 20, [`worker ${b}`]: 20 }, bad: [] });
    // Under Wine the handle probe also counts handles Windows Node opens by itself; a leak per hand-off would be 40.
    expect(Math.abs(r.handlesDelta)).toBeLessThanOrEqual(5);
    // A refusing receiver passes each connection on to the next; only refusers: the front serves, intact.
    expect(r.skipRefusing).toEqual({ by: { [`worker ${a}`]: 20 }, bad: [] });
    expect(r.onlyRefusing).toEqual({ by: { [`local ${front}`]: 10 }, bad: [] });
    expect(r.declineAdopted).toEqual([]);
    // A receiver that is gone is skipped; with none left, the front serves.
    expect(r.oneGone).toEqual({ by: { [`worker ${a}`]: 20 }, bad: [] });
    expect(r.allGone).toEqual({ by: { [`local ${front}`]: 10 }, bad: [] });
    expect(r.badSendTo).toEqual(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_INVALID_ARG_TYPE']);
  });
});
