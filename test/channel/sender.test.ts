/** openSender's argument checks run everywhere; off Windows it rejects with ERR_UNSUPPORTED_PLATFORM. */
import { openSender } from '../../src/channel/sender';

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
  ])('rejects %p with ERR_INVALID_ARG_VALUE naming the option', async (options, message) => {
    await expect(openSender('x', options)).rejects.toEqual(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(message) }));
  });

  (process.platform === 'win32' ? it.skip : it)('says what to use instead off Windows', async () => {
    await expect(openSender('x')).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/SCM_RIGHTS.*planned/) }),
    );
  });
});
