/**
 * The Linux platform: HandoverServer's libc listener and accept path and the Unix-socket channel;
 * Winsock tokens and PHP's file mappings do not exist here. Each part loads on its first call, so
 * that a token call failing with ERR_UNSUPPORTED_PLATFORM never loads koffi or libc.
 */
import type * as net from 'node:net';
import type { Platform } from '../platform-api';
import { unsupportedPlatform } from '../unsupported-platform';

const descriptors = () => require('./descriptor-handle') as typeof import('./descriptor-handle');
const listener = () => require('./listener-backend') as typeof import('./listener-backend');

export const linuxPlatform: Platform = {
  ...unsupportedPlatform('linux'),
  closeSocket: (socket) => descriptors().closeDescriptor(socket),
  adoptServer: (socket): net.Server => descriptors().adoptServerDescriptor(socket),
  adoptSocket: (socket, allowHalfOpen) => descriptors().adoptSocketDescriptor(socket, allowHalfOpen),
  listenSocket: (options) => listener().listenSocket(options),
  localAddress: (socket) => listener().localAddress(socket),
  acceptLoop: (socket, onAccept, onError) => listener().acceptLoop(socket, onAccept, onError),
  duplicateListener: (socket) => descriptors().duplicateDescriptor(socket),
  takeNamedLock: () => () => undefined,
  inheritedSocket: (fd) => descriptors().inheritedDescriptorInfo(fd),
  notifySystemd: (target, state) => (require('./notify-socket') as typeof import('./notify-socket')).sendNotify(target, state),
  channelTransport: () => (require('./unix-socket-transport') as typeof import('./unix-socket-transport')).unixSocketTransport,
};
