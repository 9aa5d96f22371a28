// Type-checked with `tsc --strict --noEmit` in a project that installed the tarball, under
// moduleResolution node10 and node16. Lines marked @ts-expect-error prove an internal is not in
// the published typings; the rest prove the public types are exact (no casts needed).
import * as net from 'node:net';
import {
  decodeProtocolInfo,
  encodeProtocolInfo,
  exportSocket,
  HandoverServer,
  importSocket,
  InvalidTokenError,
  openReceiver,
  openSender,
  PosixError,
  SocketHandle,
  SocketHandoffError,
  SocketReceiver,
  SocketSender,
  WinsockError,
  type OnSocket,
  type SocketHandoffErrorCode,
  type SocketInfo,
} from 'socket-handoff';
import { socket_last_error, socket_strerror, socket_wsaprotocol_info_export, socket_wsaprotocol_info_import } from 'socket-handoff/php';

// onSocket: info.kind tells a connection from a listener, and narrows the socket with it.
const onSocket: OnSocket = (socket, info) => {
  if (info.kind === 'server') {
    const server: HandoverServer = socket;
    server.on('connection', (c: net.Socket) => c.end());
  } else {
    const connection: net.Socket = socket;
    connection.end(`hello ${info.pid} ${info.id} ${String(info.meta)}`);
  }
};
const kinds: SocketInfo['kind'][] = ['socket', 'server'];

// toHandoverServer() is a HandoverServer, toNetServer() a net.Server, toNetSocket() a net.Socket.
declare const handle: SocketHandle;
const adopted: HandoverServer = handle.toHandoverServer();
const plain: net.Server = handle.toNetServer();
const connected: net.Socket = handle.toNetSocket({ allowHalfOpen: true });

// Error codes are the exported union, not string.
function codeOf(err: unknown): SocketHandoffErrorCode | undefined {
  if (err instanceof WinsockError || err instanceof PosixError) return undefined;
  if (err instanceof SocketHandoffError) {
    const known: SocketHandoffErrorCode = err.code;
    return known;
  }
  return undefined;
}
const invalid: 'ERR_INVALID_TOKEN' = new InvalidTokenError('x').code;
// @ts-expect-error not one of the codes
const wrong: SocketHandoffErrorCode = 'ERR_NO_SUCH_CODE';

async function main(): Promise<void> {
  const receiver: SocketReceiver = await openReceiver('consumer', onSocket, { secret: 's' });
  const sender = await openSender('consumer', { secret: 's' });
  const server: HandoverServer = HandoverServer.listen({ port: 0 }, (socket: net.Socket) => socket.end());
  server.getConnections((err: Error | null, count: number) => void [err, count]);
  server.maxConnections = 10;
  server.unref().ref();
  const result: { id: number; receiverPid: number } = await sender.send(server);
  const token: string = exportSocket(server, result.receiverPid);
  const imported: SocketHandle = importSocket(token);
  const id: string | false = socket_wsaprotocol_info_export(imported, 1);
  const back: SocketHandle | false = socket_wsaprotocol_info_import(String(id));
  void [back, socket_strerror(socket_last_error())];
  void decodeProtocolInfo(encodeProtocolInfo(Buffer.alloc(628))).szProtocol;
  await receiver.close();
  await sender.close();

  // Internals are not in the typings.
  // @ts-expect-error the constructor is private: use HandoverServer.listen() or toHandoverServer()
  new HandoverServer(3n, false);
  // @ts-expect-error SocketReceiver.listen(transport, …) is internal
  void receiver.listen;
  // @ts-expect-error reportError is internal
  void receiver.reportError;
  // @ts-expect-error reportClientError is internal
  void receiver.reportClientError;
  // @ts-expect-error the SocketHandle constructor is private: SocketHandles come from importSocket()
  new SocketHandle({ handle: 1n, family: 2, type: 1, protocol: 6, listening: true }, {});
  // @ts-expect-error the SocketSender constructor is private: use openSender()
  new SocketSender();
  // @ts-expect-error the SocketReceiver constructor is private: use openReceiver()
  new SocketReceiver('x');
}

void [onSocket, kinds, adopted, plain, connected, codeOf, invalid, wrong, main];
