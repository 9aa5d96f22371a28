/** openReceiver's argument checks, and where it listens on Linux (the Windows side runs in test/cross-process). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openReceiver } from '../../src/channel/receiver';
import { itElsewhere, itOnLinux } from '../support/platform';

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

  itOnLinux('listens on a 0600 socket in a private runtime folder, once per name, and removes it on close', 'Unix socket files', async () => {
    const name = `receiver-test-${process.pid}`;
    const receiver = await openReceiver(name, noop);
    try {
      expect(path.basename(receiver.endpoint)).toBe(`${name}.sock`);
      expect(fs.statSync(receiver.endpoint).mode & 0o777).toBe(0o600);
      expect(fs.statSync(receiver.endpoint).isSocket()).toBe(true);
      expect(fs.statSync(path.dirname(receiver.endpoint)).mode & 0o777).toBe(0o700);
      await expect(openReceiver(name, noop)).rejects.toEqual(coded('ERR_CHANNEL_IN_USE'));
    } finally {
      await receiver.close();
    }
    expect(fs.existsSync(receiver.endpoint)).toBe(false);
  });

  itOnLinux('takes an absolute path, and refuses to replace a file that is not a socket', 'Unix socket files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'receiver-test-'));
    const file = path.join(dir, 'not-a-socket');
    fs.writeFileSync(file, 'keep me');
    await expect(openReceiver(file, noop)).rejects.toEqual(coded('ERR_CHANNEL_FAILED'));
    await expect(openReceiver(path.join(dir, 'missing', 'chan.sock'), noop)).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_CHANNEL_FAILED', cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    const receiver = await openReceiver(path.join(dir, 'chan.sock'), noop);
    expect(receiver.endpoint).toBe(path.join(dir, 'chan.sock'));
    await receiver.close();
    fs.rmSync(dir, { recursive: true });
  });

  itElsewhere('says what to use instead', 'Linux and Windows have the channel', async () => {
    await expect(openReceiver('x', noop)).rejects.toEqual(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/child_process\.send/) }),
    );
  });
});
