/** Argument checks run on every platform; off Windows every Winsock call says what to use instead. */
import * as net from 'node:net';
import { exportSocket, importSocket } from '../src/token-api';
import { encodeProtocolInfo } from '../src/token-codec';
import { describeOffWindows, ON_LINUX } from './support/platform';

const validToken = encodeProtocolInfo(Buffer.alloc(628));

describe('exportSocket arguments', () => {
  it.each([0, -1, 1.5, 2 ** 32, NaN])('rejects targetPid %p with ERR_INVALID_ARG_VALUE', (pid) => {
    expect(() => exportSocket(123n, pid)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/"targetPid".*1 to 4294967295/) }),
    );
  });

  it.each(['123', null, undefined, 10n])('rejects targetPid %p with ERR_INVALID_ARG_TYPE', (pid) => {
    expect(() => exportSocket(123n, pid as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"targetPid" argument must be a number/) }),
    );
  });

  it('refuses Node sockets from a worker thread, whose loop is not the one searched', async () => {
    const { Worker } = await import('node:worker_threads');
    const dist = require('node:path').resolve(__dirname, '..', 'dist');
    const code = `
      const net = require('node:net');
      const { parentPort } = require('node:worker_threads');
      const { exportSocket } = require(${JSON.stringify(dist)});
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        try { exportSocket(server, 1234); parentPort.postMessage('no error'); }
        catch (err) { parentPort.postMessage(err.code); }
        server.close();
      });`;
    const worker = new Worker(code, { eval: true });
    const answer = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    expect(answer).toBe('ERR_NOT_MAIN_THREAD');
  });

  it.each([-1n, 2n ** 64n - 1n, 2n ** 64n, -5, 2 ** 60])('rejects the raw SOCKET %p with ERR_INVALID_ARG_VALUE', (socket) => {
    expect(() => exportSocket(socket, 1234)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it.each([[{}], ['socket'], [[1, 2]], [() => 1]])('rejects %p as a socket with ERR_INVALID_ARG_TYPE', (socket) => {
    expect(() => exportSocket(socket as never, 1234)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('checks its options: an object whose blocking is a boolean', () => {
    expect(() => exportSocket(123n, 1234, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"options"/) }));
    expect(() => exportSocket(123n, 1234, { blocking: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"options.blocking"/) }),
    );
  });

  it('rejects a server that is not listening and a destroyed socket', () => {
    expect(() => exportSocket(net.createServer(), 1234)).toThrow(expect.objectContaining({ code: 'ERR_NOT_LISTENING' }));
    const socket = new net.Socket();
    socket.destroy();
    expect(() => exportSocket(socket, 1234)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_CLOSED' }));
  });
});

describe('importSocket arguments', () => {
  it.each([
    ['', /empty/],
    ['%%%', /base64/],
    [Buffer.alloc(627).toString('base64'), /628 bytes expected, got 627/],
  ])('rejects %p with ERR_INVALID_TOKEN', (token, message) => {
    expect(() => importSocket(token)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TOKEN', message: expect.stringMatching(message) }));
  });

  it('checks the struct before calling Winsock', () => {
    const bytes = Buffer.alloc(628);
    bytes.writeInt32LE(9, 40); // ChainLen
    expect(() => importSocket(bytes.toString('base64'))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOKEN', message: expect.stringMatching(/ChainLen/) }),
    );
  });
});

describeOffWindows('without Winsock', 'a Windows build of Node has Winsock', () => {
  it('exportSocket fails with ERR_UNSUPPORTED_PLATFORM and says what to use instead', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(() => exportSocket(server, process.pid)).toThrow(
        expect.objectContaining({
          code: 'ERR_UNSUPPORTED_PLATFORM',
          message: expect.stringMatching(ON_LINUX ? /the channel \(openReceiver\(\)\/openSender\(\)/ : /child_process\.send/),
        }),
      );
      expect(() => exportSocket(99n, process.pid)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM' }));
    } finally {
      server.close();
    }
  });

  it('importSocket of a well-formed token fails with ERR_UNSUPPORTED_PLATFORM', () => {
    expect(() => importSocket(validToken)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_PLATFORM', message: expect.stringMatching(/only on Windows/) }),
    );
  });
});
