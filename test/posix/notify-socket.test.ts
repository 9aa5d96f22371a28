/** $NOTIFY_SOCKET addresses: a path (NUL-terminated) or an abstract '@' name (exact length). */
import { notifySocketAddress, sendNotify } from '../../src/posix/notify-socket';
import { describeOnLinux } from '../support/platform';

describeOnLinux('notify socket', 'sd_notify is a Unix datagram socket', () => {
  it('builds sockaddr_un for a path and for an abstract name', () => {
    const p = notifySocketAddress('/run/systemd/notify');
    expect(p.length).toBe(2 + '/run/systemd/notify'.length + 1);
    expect(p.addr.readUInt16LE(0)).toBe(1);
    expect(p.addr.subarray(2, p.length).toString()).toBe('/run/systemd/notify\0');
    const a = notifySocketAddress('@sd-notify-42');
    expect(a.length).toBe(2 + 1 + 'sd-notify-42'.length);
    expect(a.addr[2]).toBe(0);
    expect(a.addr.subarray(3, a.length).toString()).toBe('sd-notify-42');
  });

  it('refuses what is neither', () => {
    expect(() => notifySocketAddress('relative/path')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => notifySocketAddress('@')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => notifySocketAddress(`/${'x'.repeat(200)}`)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('a socket nobody listens on is a PosixError from sendto', () => {
    expect(() => sendNotify(`/tmp/socket-handoff-no-such-notify-${process.pid}`, 'READY=1')).toThrow(expect.objectContaining({ name: 'PosixError', syscall: 'sendto', code: 'ENOENT' }));
  });
});
