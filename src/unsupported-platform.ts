/**
 * What a platform does not have throws ERR_UNSUPPORTED_PLATFORM with a message that says what to
 * use instead. The whole platform off Windows and Linux; the token calls on Linux.
 */
import * as util from 'node:util';
import { SocketHandoffError } from './errors';
import type { Platform } from './platform-api';

function unsupported(what: string, platformName: string): never {
  const alternative =
    platformName === 'linux'
      ? 'On Linux, hand sockets to another process with the channel (openReceiver()/openSender(), over SCM_RIGHTS); '
      : 'Here, pass a socket to a child process with child_process.send(message, socket); ';
  throw new SocketHandoffError(
    'ERR_UNSUPPORTED_PLATFORM',
    `${what}() needs Winsock (WSADuplicateSocketW/WSASocketW), which exists only on Windows; this is ${platformName}. ${alternative}` +
      'encodeProtocolInfo()/decodeProtocolInfo() work on every platform.',
  );
}

function notHere(message: string): never {
  throw new SocketHandoffError('ERR_UNSUPPORTED_PLATFORM', message);
}

/** Every call of a platform without sockets to hand over (macOS included, for now). */
export function unsupportedPlatform(platformName: string): Platform {
  const listener = (): never =>
    notHere(`HandoverServer runs on Windows (Winsock) and Linux (libc); this is ${platformName}. Use a net.Server here.`);
  return {
    name: platformName,
    findNodeSocket: () => unsupported('exportSocket', platformName),
    duplicateSocket: () => unsupported('exportSocket', platformName),
    setBlocking: () => unsupported('exportSocket', platformName),
    importSocket: () => unsupported('importSocket', platformName),
    fileMappings: () =>
      notHere(`socket_wsaprotocol_info_*() pass Winsock sockets through Windows file mappings, as PHP does; this is ${platformName}.`),
    errorText: (errno) => util.getSystemErrorMap().get(-errno)?.[1] ?? '',
    closeSocket: () => unsupported('SocketHandle.close', platformName),
    adoptServer: () => unsupported('toNetServer', platformName),
    adoptSocket: () => unsupported('toNetSocket', platformName),
    listenSocket: listener,
    localAddress: listener,
    acceptLoop: listener,
    duplicateListener: listener,
    takeNamedLock: () => () => undefined,
    inheritedSocket: () => notHere(`systemd socket activation exists on Linux only; this is ${platformName}.`),
    notifySystemd: () => notHere(`sd_notify exists on Linux only; this is ${platformName}.`),
    channelTransport: () =>
      notHere(
        `The hand-off channel runs on Windows (named pipes and WSADuplicateSocketW) and Linux (Unix sockets with SCM_RIGHTS); this is ${platformName}. ` +
          'The SCM_RIGHTS transport has not been verified on macOS yet; until then use child_process.send(message, socket).',
      ),
  };
}
