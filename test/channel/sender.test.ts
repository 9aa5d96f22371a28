/** openSender's argument checks, and a channel nobody listens on (the hand-offs themselves run in test/cross-process). */
import { openSender } from '../../src/channel/sender';
import { itElsewhere, itOnLinux } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });

describe('openSender', () => {
  it.each([
    [undefined, 'ERR_INVALID_ARG_TYPE'],
    ['', 'ERR_INVALID_ARG_VALUE'],
  ])('rejects the name %p with %s', async (name, code) => {
    await expect(openSender(name as unknown as string)).rejects.toEqual(coded(code));
  });

  it.each([
    [{ ackTimeout: 0 }, /options\.ackTimeout/],
    [{ connectTimeout: -1 }, /options\.connectTimeout/],
    [{ secret: '' }, /options\.secret/],
    [{ maxFrameSize: 10 }, /options\.maxFrameSize/],
    [{ ackReadDelay: -1 }, /options\.ackReadDelay/],
    [{ ackReadDelay: 2.5 }, /options\.ackReadDelay/],
    [{ ackReadDelay: 1001 }, /options\.ackReadDelay/],
    [{ ackReadDelay: '5' as unknown as number }, /options\.ackReadDelay/],
  ])('rejects %p with ERR_INVALID_ARG_VALUE naming the option', async (options, message) => {
    await expect(openSender('x', options)).rejects.toEqual(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(message) }));
  });

  itOnLinux('rejects with ERR_CHANNEL_UNAVAILABLE when no receiver listens', 'Unix socket files', async () => {
    await expect(openSender(`nobody-listens-${process.pid}`)).rejects.toEqual(coded('ERR_CHANNEL_UNAVAILABLE'));
    await expect(openSender('/nonexistent-dir/chan.sock')).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_CHANNEL_UNAVAILABLE', cause: expect.objectContaining({ code: 'ENOENT', syscall: 'connect' }) }),
    );
  });

  itOnLinux('rejects names that are neither simple nor absolute paths', 'Unix socket paths', async () => {
    await expect(openSender('../escape')).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
    await expect(openSender(`/tmp/${'x'.repeat(120)}`)).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
  });

  itElsewhere('says what to use instead', 'Linux and Windows have the channel', async () => {
    await expect(openSender('x')).rejects.toEqual(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/SCM_RIGHTS/) }));
  });
});
