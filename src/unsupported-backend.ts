/** The token backend off Windows: Winsock tokens do not exist there, so every call explains what to use. */
import { SocketHandoffError } from './errors';
import type { TokenBackend } from './backend';

function unsupported(call: string): never {
  throw new SocketHandoffError(
    'ERR_UNSUPPORTED_PLATFORM',
    `${call}() needs Winsock (WSADuplicateSocketW/WSASocketW), which exists only on Windows; this is ${process.platform}. ` +
      (process.platform === 'linux'
        ? 'On Linux, hand sockets to another process with the channel (openReceiver()/openSender(), over SCM_RIGHTS); '
        : 'Here, pass a socket to a child process with child_process.send(message, socket); ') +
      'encodeProtocolInfo()/decodeProtocolInfo() work on every platform.',
  );
}

export const unsupportedBackend: TokenBackend = {
  findSocketByKey: () => unsupported('exportSocket'),
  duplicateSocket: () => unsupported('exportSocket'),
  duplicateSocketAnsi: () => unsupported('socket_wsaprotocol_info_export'),
  setBlocking: () => unsupported('exportSocket'),
  importSocket: () => unsupported('importSocket'),
  listenSocket: () => unsupported('HandoverServer.listen'),
  localAddress: () => unsupported('HandoverServer'),
  acceptLoop: () => unsupported('HandoverServer'),
  adoptAccepted: () => unsupported('HandoverServer'),
  closeSocket: () => unsupported('closeSocket'),
};
