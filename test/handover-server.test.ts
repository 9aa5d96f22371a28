/**
 * HandoverServer's own argument handling and failure paths (src/handover-server.ts), natively on
 * Linux; its behaviour beside net.Server is compared in test/cross-process/handover-server.test.ts.
 */
import * as net from 'node:net';
import { HandoverServer } from '../src/handover-server';
import { describeOnLinux } from './support/platform';
import { openDescriptors } from './support/send-descriptors';

const once = (emitter: NodeJS.EventEmitter, event: string) => new Promise<unknown[]>((resolve) => emitter.once(event, (...args) => resolve(args)));
const closed = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describeOnLinux('HandoverServer', 'counts /proc/self/fd', () => {
  it('takes net.Server listen() forms: (port, backlog, callback) and (options, callback) after a close', async () => {
    const server = HandoverServer.listen({ port: 0 });
    await once(server, 'listening');
    await closed(server);
    await new Promise<void>((resolve) => server.listen(0, 5, resolve));
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    await closed(server);
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '::1' }, resolve));
    expect(server.address()).toMatchObject({ address: '::1', family: 'IPv6' });
    await closed(server);
  });

  it('refuses what it cannot listen on, at once, with the argument named', async () => {
    const server = HandoverServer.listen({ port: 0 });
    await once(server, 'listening');
    await closed(server);
    for (const [args, name] of [
      [['/tmp/handover.sock'], 'port'],
      [[{ path: '/tmp/handover.sock' }], 'options.path'],
      [[{ fd: 3 }], 'options.fd'],
      [[0, 'localhost'], 'options.host'],
      [[70000], 'options.port'],
    ] as const) {
      expect(() => (server.listen as (...a: unknown[]) => unknown)(...args)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(`"${name}"`) }),
      );
    }
    expect(server.listening).toBe(false);
    expect(() => HandoverServer.listen({ port: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => HandoverServer.listen({ allowHalfOpen: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('closes what it opened when listening fails, and can listen again', async () => {
    const holder = HandoverServer.listen({ port: 0 });
    await once(holder, 'listening');
    const { port } = holder.address() as net.AddressInfo;
    const before = openDescriptors();
    const busy = HandoverServer.listen({ port });
    const [err] = await once(busy, 'error');
    expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    expect(openDescriptors()).toBe(before);
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    expect(busy.listening).toBe(true);
    await Promise.all([closed(busy), closed(holder)]);
    expect(openDescriptors()).toBe(before - 1);
  });
});
