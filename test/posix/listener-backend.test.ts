/** HandoverServer on Linux: a listener made with libc, accepted by the package, closed without loss. */
import * as net from 'node:net';
import { HandoverServer } from '../../src/handover-server';
import { describeOnLinux } from '../support/platform';

const get = (port: number) =>
  new Promise<string>((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => (text += d));
    c.on('close', () => resolve(text));
    c.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
  });

describeOnLinux('HandoverServer on Linux', 'a listener made with libc', () => {
  it('listens on IPv4 and IPv6, serves connections as net.Sockets, and closes like a net.Server', async () => {
    const v4 = HandoverServer.listen({ port: 0, host: '127.0.0.1' }, (s) => s.end('v4\n'));
    const v6 = HandoverServer.listen({ port: 0, host: '::1' }, (s) => s.end('v6\n'));
    expect(v4.address()).toEqual({ address: '127.0.0.1', family: 'IPv4', port: expect.any(Number) });
    expect(v6.address()).toMatchObject({ address: '::1', family: 'IPv6' });
    expect(v4.listening).toBe(true);
    const port = (v4.address() as net.AddressInfo).port;
    expect(await get(port)).toBe('v4\n');
    const c6 = net.connect((v6.address() as net.AddressInfo).port, '::1');
    expect(await new Promise((resolve) => c6.once('data', (d) => resolve(String(d))))).toBe('v6\n');
    await new Promise((resolve) => v4.close(resolve));
    v6.close();
    expect(v4.listening).toBe(false);
    expect(await get(port)).toBe('error ECONNREFUSED');
  });

  it('refuses host names at once, and reports a busy port as an error event, as net.Server does', async () => {
    expect(() => HandoverServer.listen({ host: 'localhost' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const first = HandoverServer.listen({ port: 0 });
    const { port } = first.address() as net.AddressInfo;
    const second = HandoverServer.listen({ port });
    const err = await new Promise((resolve) => second.once('error', resolve));
    expect(err).toEqual(expect.objectContaining({ name: 'PosixError', code: 'EADDRINUSE', syscall: 'bind' }));
    expect(second.listening).toBe(false);
    first.close();
  });
});
