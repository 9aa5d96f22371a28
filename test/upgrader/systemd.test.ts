/** systemd's side: LISTEN_* parsing (removed from the environment in every case) and sd_notify. */
import { takeSystemdListeners, notifySystemd } from '../../src/upgrader/systemd';
import { itOnLinux } from '../support/platform';

const coded = (code: string) => expect.objectContaining({ code });

describe('systemd listeners', () => {
  it('ignores (and removes) LISTEN_* meant for another process, or absent', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: String(process.pid + 1), LISTEN_FDS: '1', LISTEN_FDNAMES: 'web' };
    const { byName, extra } = takeSystemdListeners(env);
    expect(byName.size).toBe(0);
    expect(extra).toEqual([]);
    expect(env).toEqual({});
    expect(takeSystemdListeners({}).byName.size).toBe(0);
  });

  itOnLinux('refuses malformed LISTEN_FDS and LISTEN_FDNAMES for this process with ERR_SYSTEMD_FDS', 'systemd socket activation', () => {
    const pid = String(process.pid);
    expect(() => takeSystemdListeners({ LISTEN_PID: pid, LISTEN_FDS: 'two' })).toThrow(coded('ERR_SYSTEMD_FDS'));
    expect(() => takeSystemdListeners({ LISTEN_PID: pid, LISTEN_FDS: '0' })).toThrow(coded('ERR_SYSTEMD_FDS'));
    expect(() => takeSystemdListeners({ LISTEN_PID: pid, LISTEN_FDS: '2', LISTEN_FDNAMES: 'web' })).toThrow(coded('ERR_SYSTEMD_FDS'));
  });

  it('sd_notify is a no-op without NOTIFY_SOCKET', () => {
    expect(notifySystemd('READY=1\n', {})).toBe(false);
  });
});
