/** Where channel sockets live on Linux, and which folders are refused. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { channelPath, checkPrivateDirectory, ensurePrivateDirectory, runtimeDirectory } from '../../src/posix/runtime-dir';
import { describeOnLinux } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });

describeOnLinux('runtime-dir', 'POSIX paths, modes and uids', () => {
  const saved = process.env.XDG_RUNTIME_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
  });

  it('uses $XDG_RUNTIME_DIR/socket-handoff when set, else a per-uid folder in the temporary directory', () => {
    process.env.XDG_RUNTIME_DIR = '/run/user/1234';
    expect(runtimeDirectory()).toBe('/run/user/1234/socket-handoff');
    expect(channelPath('workers')).toBe('/run/user/1234/socket-handoff/workers.sock');
    delete process.env.XDG_RUNTIME_DIR;
    expect(runtimeDirectory()).toBe(path.join(os.tmpdir(), `socket-handoff-${process.getuid?.()}`));
    process.env.XDG_RUNTIME_DIR = 'relative/ignored';
    expect(runtimeDirectory()).toBe(path.join(os.tmpdir(), `socket-handoff-${process.getuid?.()}`));
  });

  it('takes an absolute path as it is, and refuses names that could leave the folder', () => {
    expect(channelPath('/var/run/app/chan.sock')).toBe('/var/run/app/chan.sock');
    for (const bad of ['', '.', '..', '../x', 'a/b', 'x'.repeat(81), 'sp ace', 'nul\0']) {
      expect(() => channelPath(bad)).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    }
    expect(() => channelPath('ok.name_1-2')).not.toThrow();
  });

  it('creates the folder with mode 0700 and accepts it again', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-dir-test-'));
    const dir = path.join(root, 'socket-handoff');
    ensurePrivateDirectory(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    ensurePrivateDirectory(dir);
    fs.rmSync(root, { recursive: true });
  });

  it('refuses a folder others may write to, a symlink, or a file, with the code each side uses', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-dir-test-'));
    const open = path.join(root, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    expect(() => ensurePrivateDirectory(open)).toThrow(coded('ERR_CHANNEL_FAILED'));
    expect(() => checkPrivateDirectory(open, 'ERR_CHANNEL_UNAVAILABLE')).toThrow(coded('ERR_CHANNEL_UNAVAILABLE'));
    const link = path.join(root, 'link');
    const real = path.join(root, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    fs.symlinkSync(real, link);
    expect(() => checkPrivateDirectory(link, 'ERR_CHANNEL_FAILED')).toThrow(coded('ERR_CHANNEL_FAILED'));
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    expect(() => ensurePrivateDirectory(file)).toThrow(coded('ERR_CHANNEL_FAILED'));
    expect(() => checkPrivateDirectory(path.join(root, 'missing'), 'ERR_CHANNEL_UNAVAILABLE')).toThrow(coded('ERR_CHANNEL_UNAVAILABLE'));
    fs.rmSync(root, { recursive: true });
  });

  (process.getuid?.() === 0 ? it : it.skip)('refuses a folder owned by another user (root can make one)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-dir-test-'));
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign, { mode: 0o700 });
    fs.chownSync(foreign, 65534, 65534);
    expect(() => checkPrivateDirectory(foreign, 'ERR_CHANNEL_UNAVAILABLE')).toThrow(
      expect.objectContaining({ code: 'ERR_CHANNEL_UNAVAILABLE', message: expect.stringMatching(/owner uid 65534/) }),
    );
    fs.rmSync(root, { recursive: true });
  });
});
