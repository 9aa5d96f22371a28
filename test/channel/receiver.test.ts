/** openReceiver's argument checks run everywhere; off Windows it rejects with ERR_UNSUPPORTED_PLATFORM. */
import { openReceiver } from '../../src/channel/receiver';

const coded = (code: string) => expect.objectContaining({ code });
const noop = () => undefined;

describe('openReceiver', () => {
  it('needs a name and an onSocket function', async () => {
    await expect(openReceiver(42 as unknown as string, noop)).rejects.toEqual(coded('ERR_INVALID_ARG_TYPE'));
    await expect(openReceiver('x', 'nope' as never)).rejects.toEqual(coded('ERR_INVALID_ARG_TYPE'));
  });

  it('checks its options', async () => {
    await expect(openReceiver('x', noop, { handshakeTimeout: 1e12 })).rejects.toEqual(coded('ERR_INVALID_ARG_VALUE'));
    await expect(openReceiver('x', noop, { accept: true as never })).rejects.toEqual(coded('ERR_INVALID_ARG_TYPE'));
    await expect(openReceiver('x', noop, null as never)).rejects.toEqual(coded('ERR_INVALID_ARG_TYPE'));
  });

  (process.platform === 'win32' ? it.skip : it)('says what to use instead off Windows', async () => {
    await expect(openReceiver('x', noop)).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/child_process\.send/) }),
    );
  });
});
