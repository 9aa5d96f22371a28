/**
 * The hand-off channel (src/channel) between unrelated processes: Windows processes (under Wine off
 * Windows) and native Linux processes (SCM_RIGHTS). Each scenario runs fixtures/channel-handoff.js,
 * whose receivers are separate processes that know only the channel name.
 */
import { CHANNEL_RUNTIMES, isLinuxLine, runFixture } from './fixture-runner';

describe.each(CHANNEL_RUNTIMES)('hand-off channel, $label', ({ line }) => {
  const scenario = async (name: string) => {
    const { status, result } = await runFixture<any>('channel-handoff.js', [name], line);
    expect(result.error).toBeUndefined();
    expect(status).toBe(0);
    return result;
  };

  it('carries head, buffered and unread bytes: nothing lost, nothing duplicated, order kept', async () => {
    const r = await scenario('lossless');
    expect(r.outcome).toEqual({ sent: true });
    expect(r.bufferedAtSend).toBeGreaterThan(0); // bytes Node had read but nobody consumed travelled too
    expect(r.reply).toEqual({ pid: r.receiverPid, ...r.expected });
    expect(r.senderSawPid).toBe(r.receiverPid);
    expect(r.adopted).toMatchObject({ adopted: 1, meta: { scenario: 'lossless' }, server: false });
  });

  it('pipelines 200 hand-offs from two senders into one receiver', async () => {
    const r = await scenario('pipelined');
    expect(r.ok).toBe(r.count);
    expect(r.maxPending).toBeGreaterThan(1);
  });

  it('gives a declined socket back intact, with its bytes, to be served locally', async () => {
    const r = await scenario('refusal');
    expect(r.outcome).toMatchObject({ sent: false, error: { code: 'ERR_HANDOFF_REFUSED' }, reason: 'ERR_HANDOFF_DECLINED', destroyed: false });
    expect(r.reply).toMatch(/^local \d+ got part1-part2\n$/);
  });

  it('rejects hand-offs in flight to a receiver that dies, and they succeed on another', async () => {
    const r = await scenario('deadReceiver');
    expect(r.outcomes.filter((o: string) => o === 'ERR_RECEIVER_GONE')).toHaveLength(5);
    r.replies.forEach((text: string, i: number) => expect(text).toBe(`request ${i} answered by ${r.bPid}\n`));
  });

  it('times out on a receiver that never answers, and the socket is served locally', async () => {
    const r = await scenario('timeout');
    expect(r.outcome).toMatchObject({ sent: false, error: { code: 'ERR_HANDOFF_TIMEOUT' }, destroyed: false });
    expect(r.reply).toMatch(/^local \d+ got hello-world\n$/);
  });

  it('keeps the sender\'s copy of a listener open with keepOpen, and both serve it', async () => {
    const r = await scenario('keepOpen');
    expect(r.sent.receiverPid).toBe(r.pids[1]);
    expect(r.adopted).toMatchObject({ server: true, meta: { shared: true } });
    expect(r.stillListening).toBe(true);
    for (const text of r.answers) expect(text).toMatch(new RegExp(`^served by (${r.pids.join('|')})\n$`));
  });

  it('identifies a sender that is not its parent, with its own stderr piped', async () => {
    const r = await scenario('siblingSender');
    expect(r.outcome).toEqual({ connected: r.receiverPid, pid: r.siblingPid });
    expect(r.clientErrors).toEqual([]);
  });

  it('admits only senders that know the secret', async () => {
    const r = await scenario('secret');
    expect(r).toMatchObject({ without: 'ERR_CHANNEL_AUTH', wrong: 'ERR_CHANNEL_AUTH', right: 'connected' });
    expect(r.clientErrors).toEqual(['ERR_CHANNEL_AUTH']);
  });

  it('answers malformed, oversized and unknown-version frames and a lying pid with coded errors, and keeps serving', async () => {
    const r = await scenario('malformed');
    const codes = Object.fromEntries(Object.entries(r.answers).map(([k, v]: [string, any]) => [k, v.map((m: any) => m.code ?? m.type)]));
    expect(codes).toEqual({
      garbage: ['ERR_MALFORMED_FRAME'],
      oversized: ['ERR_FRAME_TOO_LARGE'],
      notJson: ['ERR_MALFORMED_FRAME'],
      unknownVersion: ['ERR_UNSUPPORTED_VERSION'],
      liarPid: ['ERR_PID_MISMATCH'],
      socketBeforeHello: ['ERR_MALFORMED_FRAME'],
      // On Linux a socket frame must carry its descriptor in SCM_RIGHTS; these carry none.
      badTokenAfterHello: isLinuxLine(line) ? ['ready', 'ERR_NO_DESCRIPTOR', 'ERR_NO_DESCRIPTOR'] : ['ready', expect.stringMatching(/^WSAE/), 'ERR_INVALID_TOKEN'],
    });
    expect(r.reply).toBe(`still serving? answered by ${r.receiverPid}\n`);
    expect(r.clientErrors).toEqual([
      'ERR_MALFORMED_FRAME',
      'ERR_FRAME_TOO_LARGE',
      'ERR_MALFORMED_FRAME',
      'ERR_UNSUPPORTED_VERSION',
      'ERR_PID_MISMATCH',
      'ERR_MALFORMED_FRAME',
    ]);
    // 300 mutated frames against the live receiver: it kept serving (above), and leaked no handle.
    expect(r.fuzz.frames).toBe(300);
    expect(r.fuzz.handlesAfter - r.fuzz.handlesBefore).toBeLessThanOrEqual(5);
    expect(r.fuzz.connectionsAfter).toBe(0);
  });

  it('answers every one of 1,000 connections exactly once while receivers are killed at random points', async () => {
    // A kill every 25 to 75 answered connections natively, every 60 to 180 under Wine (where each
    // hand-off takes about ten times as long and the kills would otherwise stretch the run).
    const kills = isLinuxLine(line) ? [25, 75] : [60, 180];
    const { status, result: r } = await runFixture<any>('channel-kill.js', ['1000', ...kills.map(String)], line);
    expect(r.error).toBeUndefined();
    expect(status).toBe(0);
    expect(r.killWindow).toEqual(kills);
    // At least one kill per MAX answered connections, minus the last window, which may not complete.
    expect(r.receiversKilled).toBeGreaterThanOrEqual(Math.floor(r.total / kills[1]) - 1);
    expect(r.bad).toEqual([]);
    // No receiver served a connection whose hand-off failed on the sender's side (an ack it wrote
    // before it died must still count there).
    expect(r.answeredAfterFailedSend).toEqual([]);
    // Only a connection whose hand-off a receiver had acknowledged may go unanswered when it dies.
    expect(r.answeredOnce + r.lostAfterAdoptionByDead).toBe(r.total);
    // A killed receiver takes down at most what it held: the 16 connections the load keeps in flight.
    expect(r.lostAfterAdoptionByDead).toBeLessThanOrEqual(r.receiversKilled * 16);
    expect(r.receiversKilled).toBeGreaterThanOrEqual(3);
    // The kills hit live hand-offs: sends in flight failed over, or adopted connections died with their receiver.
    expect((r.failedSends.ERR_RECEIVER_GONE ?? 0) + r.lostAfterAdoptionByDead).toBeGreaterThan(0);
  });
});
