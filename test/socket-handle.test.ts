import * as net from 'node:net';
import type { HandoverServer } from '../src/handover-server';
import { SocketHandle, type SocketHandleInfo, type SocketHandleOps } from '../src/socket-handle';

function fakeOps() {
  const calls: string[] = [];
  const ops: SocketHandleOps = {
    close: (h) => void calls.push(`close ${h}`),
    adoptServer: (h) => {
      calls.push(`adoptServer ${h}`);
      return new net.Server();
    },
    adoptHandoverServer: (h) => {
      calls.push(`adoptHandoverServer ${h}`);
      return new net.Server() as HandoverServer; // a fake: the ops are what is tested
    },
    adoptSocket: (h) => {
      calls.push(`adoptSocket ${h}`);
      return new net.Socket();
    },
  };
  return { ops, calls };
}

const listeningTcp: SocketHandleInfo = { handle: 400n, family: 2, type: 1, protocol: 6, listening: true };
const connectedTcp: SocketHandleInfo = { ...listeningTcp, handle: 404n, listening: false };
const udp: SocketHandleInfo = { handle: 408n, family: 2, type: 2, protocol: 17, listening: false };

describe('SocketHandle', () => {
  it('exposes what the import found', () => {
    const h = SocketHandle.create(listeningTcp, fakeOps().ops);
    expect(h).toMatchObject({ handle: 400n, family: 2, type: 1, protocol: 6, listening: true, state: 'open' });
  });

  it('adopts a listening socket once as a net.Server and attaches the listener', () => {
    const { ops, calls } = fakeOps();
    const h = SocketHandle.create(listeningTcp, ops);
    const onConnection = jest.fn();
    const server = h.toNetServer(onConnection);
    expect(server).toBeInstanceOf(net.Server);
    expect(server.listeners('connection')).toContain(onConnection);
    expect(h.state).toBe('adopted');
    expect(() => h.toNetServer()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CONSUMED' }));
    expect(() => h.close()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CONSUMED', message: expect.stringMatching(/already adopted/) }));
    expect(calls).toEqual(['adoptServer 400']);
  });

  it('adopts a connected socket once as a net.Socket', () => {
    const { ops, calls } = fakeOps();
    const h = SocketHandle.create(connectedTcp, ops);
    expect(h.toNetSocket()).toBeInstanceOf(net.Socket);
    expect(() => h.toNetSocket()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CONSUMED' }));
    expect(calls).toEqual(['adoptSocket 404']);
  });

  it('refuses the wrong adoption without consuming the handle', () => {
    const { ops, calls } = fakeOps();
    const listening = SocketHandle.create(listeningTcp, ops);
    expect(() => listening.toNetSocket()).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
    const connected = SocketHandle.create(connectedTcp, ops);
    expect(() => connected.toNetServer()).toThrow(expect.objectContaining({ code: 'ERR_NOT_LISTENING' }));
    expect([listening.state, connected.state]).toEqual(['open', 'open']);
    expect(calls).toEqual([]);
  });

  it('refuses to adopt a UDP socket, which can still be closed', () => {
    const { ops, calls } = fakeOps();
    const h = SocketHandle.create(udp, ops);
    expect(() => h.toNetSocket()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_SOCKET_TYPE' }));
    expect(() => h.toNetServer()).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_SOCKET_TYPE' }));
    h.close();
    expect(h.state).toBe('closed');
    expect(() => h.close()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CONSUMED', message: expect.stringMatching(/already closed/) }));
    expect(calls).toEqual(['close 408']);
  });

  it('stays open when adoption fails, so the caller can still close it', () => {
    const { ops, calls } = fakeOps();
    ops.adoptSocket = () => {
      throw Object.assign(new Error('libuv refused'), { code: 'ERR_BINDING_UNAVAILABLE' });
    };
    const h = SocketHandle.create(connectedTcp, ops);
    expect(() => h.toNetSocket()).toThrow(expect.objectContaining({ code: 'ERR_BINDING_UNAVAILABLE' }));
    expect(h.state).toBe('open');
    h.close();
    expect(calls).toEqual(['close 404']);
  });
});
