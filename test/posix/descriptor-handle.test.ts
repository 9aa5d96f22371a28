/** A received descriptor is taken (and becomes a SocketHandle) only if it is an IPv4/IPv6 socket; otherwise it is closed. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { descriptorInfo } from '../../src/posix/descriptor-handle';
import { socketHandleFrom } from '../../src/socket-handle';
import { F_DUPFD_CLOEXEC } from '../../src/posix/constants';
import { fcntl } from '../../src/posix/libc';
import { openDescriptors } from '../support/send-descriptors';
import { describeOnLinux } from '../support/platform';

const copyOf = (fd: number) => fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
const received = (fd: number) => ({ take: () => fd });
const fdOf = (target: net.Socket | net.Server) => (target as unknown as { _handle: { fd: number } })._handle.fd;

describeOnLinux('descriptorInfo', 'libc descriptors', () => {
  let server: net.Server;
  let client: net.Socket;
  let accepted: net.Socket;

  beforeAll(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const gotConnection = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    accepted = await gotConnection;
  });

  afterAll(() => {
    client.destroy();
    accepted.destroy();
    server.close();
  });

  it('reads what kind of socket a connected TCP descriptor is, and adopts it as a working net.Socket', async () => {
    const handle = socketHandleFrom(descriptorInfo(received(copyOf(fdOf(accepted)))));
    expect(handle).toMatchObject({ family: 2, type: 1, protocol: 6, listening: false, isStream: true });
    const socket = handle.toNetSocket();
    const echoed = new Promise<string>((resolve) => client.once('data', (d) => resolve(String(d))));
    socket.write('through the copy');
    expect(await echoed).toBe('through the copy');
    socket.destroy();
  });

  it('sees a listening descriptor as listening', () => {
    const handle = socketHandleFrom(descriptorInfo(received(copyOf(fdOf(server)))));
    expect(handle.listening).toBe(true);
    handle.close();
  });

  it('closes a descriptor that is not a socket, or not an IP socket, and says why', async () => {
    const unixServer = net.createServer();
    const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'descriptor-handle-')), 's.sock');
    await new Promise<void>((resolve) => unixServer.listen(socketPath, resolve));
    const before = openDescriptors();
    const file = fs.openSync('/dev/null', 'r');
    expect(() => descriptorInfo(received(file))).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_SOCKET_TYPE', message: expect.stringMatching(/not a socket/) }));
    expect(() => descriptorInfo(received(copyOf(fdOf(unixServer))))).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_SOCKET_TYPE', message: expect.stringMatching(/address family 1/) }),
    );
    expect(openDescriptors()).toBe(before);
    unixServer.close();
  });
});
