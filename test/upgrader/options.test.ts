/** Upgrader options: defaults first, then the caller's; bad values name what is allowed. */
import { checkKey, checkUpgradeOptions, checkUpgraderOptions } from '../../src/upgrader/options';
import { itOnLinux } from '../support/platform';

const coded = (code: string, message?: RegExp) => expect.objectContaining({ code, ...(message ? { message: expect.stringMatching(message) } : {}) });

describe('Upgrader options', () => {
  it('start(): name is required and checked, drainTimeout defaults to 30 s, pidFile is optional', () => {
    expect(checkUpgraderOptions({ name: 'shop' })).toEqual({ name: 'shop', drainTimeout: 30000, pidFile: undefined });
    expect(checkUpgraderOptions({ name: 'shop.v1_x-2', drainTimeout: 5, pidFile: '/run/shop.pid' })).toEqual({ name: 'shop.v1_x-2', drainTimeout: 5, pidFile: '/run/shop.pid' });
    expect(() => checkUpgraderOptions(undefined)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => checkUpgraderOptions({})).toThrow(coded('ERR_INVALID_ARG_TYPE', /options\.name/));
    expect(() => checkUpgraderOptions({ name: '' })).toThrow(coded('ERR_INVALID_ARG_VALUE', /letters, digits/));
    expect(() => checkUpgraderOptions({ name: 'a/b' })).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    expect(() => checkUpgraderOptions({ name: 'x'.repeat(61) })).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    expect(() => checkUpgraderOptions({ name: 'shop', drainTimeout: 0 })).toThrow(coded('ERR_INVALID_ARG_VALUE', /1 to 2147483647/));
    expect(() => checkUpgraderOptions({ name: 'shop', drainTimeout: '5' })).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    expect(() => checkUpgraderOptions({ name: 'shop', pidFile: '' })).toThrow(coded('ERR_INVALID_ARG_VALUE', /file path/));
  });

  itOnLinux('start(): the name may be an absolute socket path (a shared folder)', 'a channel name is a socket path on Linux', () => {
    expect(checkUpgraderOptions({ name: '/run/shop/shop' }).name).toBe('/run/shop/shop');
  });

  it('listen(): a key is a non-empty string', () => {
    expect(checkKey('web')).toBe('web');
    expect(() => checkKey(1)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => checkKey('')).toThrow(coded('ERR_INVALID_ARG_VALUE'));
  });

  it('upgrade(): this Node, this script and its arguments, detached, 60 s by default', () => {
    const opts = checkUpgradeOptions(undefined);
    expect(opts).toEqual({ command: process.execPath, args: [...process.execArgv, ...process.argv.slice(1)], env: process.env, timeout: 60000 });
    expect(checkUpgradeOptions({ command: 'node', args: ['a.js'], env: { A: '1' }, timeout: 5 })).toEqual({ command: 'node', args: ['a.js'], env: { A: '1' }, timeout: 5 });
    expect(() => checkUpgradeOptions(null)).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => checkUpgradeOptions({ command: '' })).toThrow(coded('ERR_INVALID_ARG_VALUE'));
    expect(() => checkUpgradeOptions({ args: [1] })).toThrow(coded('ERR_INVALID_ARG_TYPE', /array of strings/));
    expect(() => checkUpgradeOptions({ env: 'x' })).toThrow(coded('ERR_INVALID_ARG_TYPE'));
    expect(() => checkUpgradeOptions({ timeout: -1 })).toThrow(coded('ERR_INVALID_ARG_VALUE'));
  });
});
