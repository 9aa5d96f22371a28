/** The Windows name lock: one holder per name (Wine lets a second process listen on a named pipe; this does not). */
import { describeOnWindows } from '../support/platform';
import { spawnProcess } from '../support/spawn-process';

describeOnWindows('named lock', 'a Local\\ named mutex is a Windows object', () => {
  it('is held by the first taker until released, then free again', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { takeNamedLock } = require('../../src/win32/named-lock') as typeof import('../../src/win32/named-lock');
    const name = `named-lock-test-${process.pid}-${Date.now()}`;
    const release = takeNamedLock(name);
    expect(typeof release).toBe('function');
    expect(takeNamedLock(name)).toBeUndefined();
    expect(takeNamedLock(`${name}-other`)?.()).toBeUndefined(); // another name is free (and released at once)
    release?.();
    release?.(); // twice is harmless
    const again = takeNamedLock(name);
    expect(typeof again).toBe('function');
    again?.();
  });

  it('is held across processes, and dies with its holder', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { takeNamedLock } = require('../../src/win32/named-lock') as typeof import('../../src/win32/named-lock');
    const path = await import('node:path');
    const name = `named-lock-test-${process.pid}-${Date.now()}-x`;
    const script = `const { takeNamedLock } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'win32', 'named-lock'))});
      process.stdout.write(takeNamedLock(${JSON.stringify(name)}) ? 'held\\n' : 'busy\\n'); setTimeout(() => {}, 60000);`;
    const child = spawnProcess(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())));
    expect(first).toBe('held');
    expect(takeNamedLock(name)).toBeUndefined();
    child.kill();
    await new Promise((resolve) => child.once('exit', resolve));
    const after = takeNamedLock(name);
    expect(typeof after).toBe('function');
    after?.();
  });
});
