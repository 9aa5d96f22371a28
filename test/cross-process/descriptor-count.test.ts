/**
 * Linux: after 10,000 hand-offs over the channel, neither the sender nor the receiver holds one
 * descriptor more than before (/proc/self/fd of each process).
 */
import { CHANNEL_RUNTIMES, isLinuxLine, runFixture } from './fixture-runner';

const LINUX = CHANNEL_RUNTIMES.filter(({ line }) => isLinuxLine(line));

(LINUX.length > 0 ? describe.each(LINUX) : describe.skip.each([{ label: '(Linux only: it counts /proc/self/fd)', line: '' }]))('descriptor count across 10,000 hand-offs, $label', ({ line }) => {
  it('stays flat in both processes, and every connection is answered by the receiver', async () => {
    const { status, result: r } = await runFixture<any>('channel-descriptor-count.js', ['10000'], line);
    expect(r.error).toBeUndefined();
    expect(status).toBe(0);
    expect(r.answered).toBe(10000);
    expect(r.after.sender).toBe(r.before.sender);
    expect(r.after.receiver).toBe(r.before.receiver);
  });
});
