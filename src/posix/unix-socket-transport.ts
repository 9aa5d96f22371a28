/**
 * The channel on Linux: a Unix stream socket at a path carries the frames, and each socket
 * travels as its descriptor (SCM_RIGHTS) attached to the first byte of its `socket` frame. Both
 * ends check with SO_PEERCRED that the other runs as the same user.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { debug } from '../debug';
import { SocketHandoffError } from '../errors';
import { holdReading } from '../node-internals';
import { controlledHandle, exportableTcpHandle } from '../node-socket';
import type { PlatformTransport, ReceivedDescriptor } from '../platform-api';
import { descriptorInfo } from './descriptor-handle';
import { channelPath, checkPrivateDirectory, ensurePrivateDirectory, runtimeDirectory } from './runtime-dir';
import { peerCredentials } from './socket-credentials';
import { connectUnix } from './unix-connect';
import { UnixListener } from './unix-listener';
import { requireMainThread } from './uv-poll';

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EAGAIN', 'ENOTDIR']);

/** The descriptor behind a Node socket or server (checked as exportSocket() checks it), and how to stop Node reading it. */
function descriptorOf(target: net.Socket | net.Server): { fd: number; hold: () => () => void } {
  const controlled = controlledHandle(target);
  if (controlled !== undefined) return { fd: Number(controlled), hold: () => () => undefined };
  const handle = exportableTcpHandle(target);
  const fd = (handle as { fd?: number }).fd;
  if (typeof fd !== 'number' || fd < 0) throw new SocketHandoffError('ERR_SOCKET_CLOSED', 'the socket is closed');
  return { fd, hold: () => (target instanceof net.Socket ? holdReading(handle) : () => undefined) };
}

export const unixSocketTransport: PlatformTransport = {
  endpoint: channelPath,
  deliverOnReceipt: true,

  async listen(endpoint, onConnection, onError) {
    requireMainThread();
    if (path.dirname(endpoint) === runtimeDirectory()) ensurePrivateDirectory(path.dirname(endpoint));
    const listener = UnixListener.listen(endpoint, (link, peer) => onConnection(link, { pid: peer.pid, uid: peer.uid }), onError);
    if (listener.replacedStale) debug('receiver %d: replaced the stale socket %s of a dead receiver', process.pid, endpoint);
    return {
      close: async () => listener.close(),
    };
  },

  async connect(endpoint, timeoutMs) {
    requireMainThread();
    if (path.dirname(endpoint) === runtimeDirectory()) checkPrivateDirectory(path.dirname(endpoint), 'ERR_CHANNEL_UNAVAILABLE');
    let link;
    try {
      link = await connectUnix(endpoint, timeoutMs);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      if (!UNREACHABLE.has(code)) throw cause;
      throw new SocketHandoffError('ERR_CHANNEL_UNAVAILABLE', `cannot reach a receiver on ${endpoint}: ${(cause as Error).message}`, { cause });
    }
    // The receiver checks us; we check it too, so that a socket planted by another user gets nothing.
    let uid: number;
    try {
      uid = peerCredentials(link.fd).uid;
    } catch (err) {
      link.destroy();
      throw err;
    }
    if (uid !== process.geteuid?.()) {
      link.destroy();
      throw new SocketHandoffError('ERR_FOREIGN_UID', `the receiver on ${endpoint} runs as uid ${uid}, not as this process's uid ${process.geteuid?.()}`);
    }
    return link;
  },

  attachRaw(socket) {
    // The link attaches the descriptor itself (SCM_RIGHTS): nothing else goes in the frame.
    return { fields: {}, descriptor: Number(socket) };
  },

  attach(target) {
    const { fd, hold } = descriptorOf(target);
    // The link sends a copy of fd; the original stays with the Node socket until commit.
    return { fields: {}, descriptor: fd, release: hold() };
  },

  detach(message, descriptors: ReceivedDescriptor[]) {
    if (descriptors.length !== 1) {
      for (const d of descriptors) d.close();
      throw new SocketHandoffError(
        'ERR_NO_DESCRIPTOR',
        `a socket frame must carry exactly one descriptor (SCM_RIGHTS on its first byte); hand-off ${message.id} carried ${descriptors.length}`,
      );
    }
    return descriptorInfo(descriptors[0] as ReceivedDescriptor);
  },
};
