/**
 * A successor's inherited listener: held without an accept path (holdListener), then a
 * HandoverServer that accepts only from startAccepting(). Connections wait in the backlog meanwhile.
 */
import * as net from 'node:net';
import { HandoverServer } from '../../src/handover-server';
import { holdListener } from '../../src/upgrader/held-listener';
import { describeOnLinuxOrWindows } from '../support/platform';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeOnLinuxOrWindows('held listener', 'HandoverServer has its own accept path there', () => {
  it('takes no connection until the deferred server starts accepting; then takes the ones that waited', async () => {
    const original = HandoverServer.listen({ port: 0 });
    const port = (original.address() as net.AddressInfo).port;
    let acceptedByOriginal = 0;
    original.on('connection', (s: net.Socket) => {
      acceptedByOriginal++;
      s.destroy();
    });
    const held = holdListener(original); // same step: the original never ran its accept path
    const closed = new Promise((resolve) => original.once('close', resolve));
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    const answers = clients.map(
      (c) =>
        new Promise<string>((resolve) => {
          let text = '';
          c.on('data', (d) => (text += d));
          c.on('close', () => resolve(text));
          c.on('error', () => resolve(`error ${text}`));
        }),
    );
    await closed;
    await pause(200);
    const server = held.adopt(true);
    const accepted: net.Socket[] = [];
    server.on('connection', (s: net.Socket) => {
      accepted.push(s);
      s.end('served\n');
    });
    expect(server.listening).toBe(true);
    expect((server.address() as net.AddressInfo).port).toBe(port);
    await pause(300);
    expect(accepted).toHaveLength(0); // deferred: still in the backlog
    server.startAccepting();
    expect(await Promise.all(answers)).toEqual(['served\n', 'served\n']);
    expect(acceptedByOriginal).toBe(0);
    expect(() => held.adopt(false)).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CONSUMED' }));
    await new Promise((resolve) => server.close(resolve));
  });

  it('closing a deferred server that never accepted releases the socket', async () => {
    const original = HandoverServer.listen({ port: 0 });
    const port = (original.address() as net.AddressInfo).port;
    const server = holdListener(original).adopt(true);
    await new Promise((resolve) => server.close(resolve));
    await pause(100);
    await expect(
      new Promise((resolve, reject) => net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)),
    ).rejects.toEqual(expect.objectContaining({ code: 'ECONNREFUSED' }));
  });
});
