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
  type ErrorCode,
  type PosixErrorCode,
  type SocketHandoffErrorCode,
  type WinsockErrorCode,
  type SocketInfo,
} from 'socket-handoff';
import { socket_last_error, socket_strerror, socket_wsaprotocol_info_export, socket_wsaprotocol_info_import } from 'socket-handoff/php';

// onSocket gets a net.Socket or a HandoverServer (never a plain net.Server); info.kind says which,
// and instanceof narrows without a cast.
const onSocket: OnSocket = (socket, info) => {
  if (socket instanceof HandoverServer) {
    socket.on('connection', (c: net.Socket) => c.end());
    socket.getConnections((_err, count) => void count);
  } else {
    const connection: net.Socket = socket;
    connection.end(`hello ${info.kind} ${info.pid} ${info.id} ${String(info.meta)}`);
  }
};
const kinds: SocketInfo['kind'][] = ['socket', 'server'];
// @ts-expect-error a connection or a listener, nothing else
const third: SocketInfo['kind'] = 'pipe';
// A callback written for the old, wider type still fits.
const wide: OnSocket = (socket: net.Socket | net.Server) => void socket;

// toHandoverServer() is a HandoverServer, toNetServer() a net.Server, toNetSocket() a net.Socket.
declare const handle: SocketHandle;
const adopted: HandoverServer = handle.toHandoverServer();
const plain: net.Server = handle.toNetServer();
const connected: net.Socket = handle.toNetSocket({ allowHalfOpen: true });

// Error codes are the exported unions, not string.
function codeOf(err: unknown): string {
  if (err instanceof WinsockError) {
    const code: WinsockErrorCode = err.code;
    return `${code} ${err.errno} ${err.syscall}`;
  }
  if (err instanceof PosixError) {
    const code: PosixErrorCode = err.code;
    return `${code} ${err.errno} ${err.syscall}`;
  }
  if (err instanceof SocketHandoffError) {
    const code: ErrorCode = err.code;
    switch (err.code) {
      case 'ERR_CHANNEL_IN_USE':
      case 'ERR_SERVER_NOT_RUNNING':
        return code;
      default:
        return err.code;
    }
  }
  return 'not ours';
}
// @ts-expect-error a SocketHandoffError's code is one of the union, not any string
const anyString: SocketHandoffError['code'] = 'not a code';
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
  server.close((err?: Error) => void err);
  const again: HandoverServer = server.listen(0, '127.0.0.1', () => undefined).listen({ port: 0, host: '::1' });
  void again;
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

void [onSocket, kinds, third, wide, anyString, adopted, plain, connected, codeOf, invalid, wrong, main];
