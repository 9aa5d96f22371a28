/**
 * Finding the SOCKET of a Node socket (src/win32/node-socket-lookup.ts, handle-async-id.ts): by
 * address key at first, then, once the place of the async id in Node's wraps is learned, by async
 * id with no Winsock address call; always the right SOCKET, and never a handle that is gone.
 */
import * as net from 'node:net';
import { describeOnWindows } from '../support/platform';

/* eslint-disable @typescript-eslint/no-require-imports */
const load = () => ({
  lookup: require('../../src/win32/node-socket-lookup') as typeof import('../../src/win32/node-socket-lookup'),
  asyncIds: require('../../src/win32/handle-async-id') as typeof import('../../src/win32/handle-async-id'),
  ws2: require('../../src/win32/ws2_32') as typeof import('../../src/win32/ws2_32'),
  nodeSocket: require('../../src/node-socket') as typeof import('../../src/node-socket'),
});

async function connections(count: number): Promise<{ server: net.Server; clients: net.Socket[]; accepted: net.Socket[] }> {
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted: net.Socket[] = [];
  const all = new Promise<void>((resolve) => server.on('connection', (s: net.Socket) => accepted.push(s) === count && resolve()));
  const { port } = server.address() as net.AddressInfo;
  const clients = Array.from({ length: count }, () => net.connect(port, '127.0.0.1'));
  await all;
  return { server, clients, accepted };
}

describeOnWindows('node-socket-lookup', "Node hides a socket's SOCKET on Windows only", () => {
  it('finds sockets by address key first, then by async id with no Winsock address call, each time the right SOCKET', async () => {
    const { lookup, asyncIds, ws2, nodeSocket } = load();
    const { server, clients, accepted } = await connections(16);
    const releases: Array<() => void> = [];
    const identityOf = (s: net.Socket) => {
      const { identity, release } = nodeSocket.heldSocket(s);
      releases.push(release);
      return identity;
    };
    // Learning: found by key, oldest first.
    for (const s of accepted.slice(0, 4)) {
      const identity = identityOf(s);
      expect(lookup.keyOfSocket(lookup.findNodeSocket(identity))).toBe(identity.key());
    }
    expect(asyncIds.asyncIdReadable()).toBe(true);
    // From now on, every lookup (newest, oldest, the server, in any order) reads no address from Winsock.
    const rest = [...accepted.slice(4).reverse(), accepted[0], accepted[2]];
    const getsockname = jest.spyOn(ws2, 'getsockname');
    const getpeername = jest.spyOn(ws2, 'getpeername');
    const found = rest.map((s) => ({ identity: identityOf(s), socket: lookup.findNodeSocket(identityOf(s)) }));
    const listener = nodeSocket.heldSocket(server).identity;
    const listenerSocket = lookup.findNodeSocket(listener);
    expect(getsockname).not.toHaveBeenCalled();
    expect(getpeername).not.toHaveBeenCalled();
    getsockname.mockRestore();
    getpeername.mockRestore();
    for (const { identity, socket } of found) expect(lookup.keyOfSocket(socket)).toBe(identity.key());
    expect(new Set(found.map((f) => f.socket)).size).toBe(accepted.length - 2);
    expect(lookup.keyOfSocket(listenerSocket)).toBe(listener.key());
    for (const release of releases) release();
    for (const s of [...accepted, ...clients]) s.destroy();
    server.close();
  });

  it('never hands out the SOCKET of a handle that is gone: a closed socket is refused, and a new one gets its own', async () => {
    const { lookup, asyncIds, nodeSocket } = load();
    const first = await connections(6);
    // Every handle is seen (and its async id remembered) by the walks of these lookups.
    for (const s of first.accepted) {
      const { identity, release } = nodeSocket.heldSocket(s);
      lookup.findNodeSocket(identity);
      release();
    }
    expect(asyncIds.asyncIdReadable()).toBe(true);
    await Promise.all([...first.accepted, ...first.clients].map((s) => (s.closed ? undefined : new Promise((resolve) => s.once('close', resolve).destroy()))));
    expect(() => nodeSocket.heldSocket(first.accepted[5])).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
    // Windows reuses SOCKET values: the new sockets may get the old ones, and each is found as itself.
    const second = await connections(6);
    for (const s of second.accepted) {
      const { identity, release } = nodeSocket.heldSocket(s);
      expect(lookup.keyOfSocket(lookup.findNodeSocket(identity))).toBe(identity.key());
      release();
    }
    for (const s of [...second.accepted, ...second.clients]) s.destroy();
    first.server.close();
    second.server.close();
  });
});
