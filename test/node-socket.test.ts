/** Which Node sockets and servers can be handed over (src/node-socket.ts), with the same codes on every platform. */
import * as net from 'node:net';
import { HandoverServer } from '../src/handover-server';
import { controlledHandle, exportableTcpHandle, heldSocket } from '../src/node-socket';
import { itOnLinux } from './support/platform';

const listening = async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
};

describe('node-socket', () => {
  it('refuses a server not listening, a socket still connecting or destroyed, and a socket never connected', () => {
    expect(() => exportableTcpHandle(net.createServer())).toThrow(expect.objectContaining({ code: 'ERR_NOT_LISTENING' }));
    const connecting = net.connect(9, '127.0.0.1').on('error', () => undefined);
    expect(() => exportableTcpHandle(connecting)).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    connecting.destroy();
    expect(() => exportableTcpHandle(connecting)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    expect(() => exportableTcpHandle(new net.Socket())).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_SOCKET_TYPE' }));
  });

  it('identifies a listening server by its async id and address key, a connected socket with its peer too; release() lets Node read again', async () => {
    const server = await listening();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const socket = await accepted;
    const listener = heldSocket(server).identity;
    expect(listener.key()).toMatch(/>listening-or-unconnected$/);
    expect(listener.asyncId).toBe((server as unknown as { _handle: { getAsyncId(): number } })._handle.getAsyncId());
    const held = heldSocket(socket);
    expect(held.identity.key()).not.toMatch(/listening-or-unconnected/);
    expect(held.identity.asyncId).not.toBe(listener.asyncId);
    held.release();
    const got = new Promise((resolve) => socket.once('data', (d) => resolve(String(d))));
    client.write('still read');
    expect(await got).toBe('still read');
    client.destroy();
    socket.destroy();
    server.close();
  });

  it('sees no mark on a plain net.Server', async () => {
    const plain = await listening();
    expect(controlledHandle(plain)).toBeUndefined();
    plain.close();
  });

  // Natively on Linux; the Windows listener runs in test/cross-process.
  itOnLinux('recognises a HandoverServer by its mark: its raw socket while it listens, ERR_NOT_LISTENING once closed', 'its raw socket is a descriptor', async () => {
    const server = HandoverServer.listen({ port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    expect(typeof server.handle).toBe('bigint');
    expect(controlledHandle(server)).toBe(server.handle);
    await new Promise((resolve) => server.close(resolve));
    expect(() => controlledHandle(server)).toThrow(expect.objectContaining({ code: 'ERR_NOT_LISTENING' }));
  });
});
