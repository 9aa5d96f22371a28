/**
 * Finds the Winsock SOCKET behind a Node `net.Socket` or `net.Server` on Windows.
 *
 * Node does not expose it (`_handle.fd` is -1 on Windows), so we match the handle's addresses,
 * which Node does expose, against the TCP handles of libuv's default loop. The cost must not grow
 * with the number of sockets the process has open, so:
 *  - a SOCKET found once is cached by its address key and re-checked with two Winsock calls;
 *  - new handles are appended at the tail of libuv's handle queue, so a miss walks from the tail
 *    backwards and stops at the first handle it has already seen: only handles created since the
 *    last walk are examined. A full walk happens only when that fails (e.g. the cache was pruned).
 */
import { SocketHandoffError } from '../errors';
import { sockaddrKey, socketKey } from '../endpoint-key';
import { AF_INET, AF_INET6, UV_TCP } from './constants';
import { readSockaddr } from './socket-address';
import { walkHandlesFromTail } from './libuv-handles';

/** Above this many remembered handles, the next miss rebuilds the maps from a full walk. */
const PRUNE_THRESHOLD = 4096;

const socketByKey = new Map<string, bigint>();
const socketByHandle = new Map<bigint, bigint>();
let liveAtLastFullWalk = 0;

function keyOf(which: 'local' | 'peer', socket: bigint): string | undefined {
  const sockaddr = readSockaddr(which, socket);
  return sockaddr === undefined ? undefined : sockaddrKey(sockaddr, AF_INET, AF_INET6);
}

/** The address key of a SOCKET as Winsock reports it now, or undefined if it is not an IP socket. */
export function keyOfSocket(socket: bigint): string | undefined {
  const local = keyOf('local', socket);
  return local === undefined ? undefined : socketKey(local, keyOf('peer', socket));
}

/** Visits TCP handles from the newest; `visit` returns true to stop. Returns false if it saw them all. */
function walkFromTail(visit: (handle: bigint, socket: bigint) => boolean): boolean {
  return walkHandlesFromTail(UV_TCP, visit);
}

/** Records a live handle; returns its key, just read from Winsock (so it needs no re-check). */
function remember(handle: bigint, socket: bigint): string | undefined {
  socketByHandle.set(handle, socket);
  const key = keyOfSocket(socket);
  if (key !== undefined) socketByKey.set(key, socket);
  return key;
}

/** Walks the handles created since the last walk; returns the SOCKET whose key is `wanted`, if seen. */
function walkNewHandles(wanted: string): bigint | undefined {
  let found: bigint | undefined;
  const stoppedEarly = walkFromTail((handle, socket) => {
    if (socketByHandle.get(handle) === socket) return true;
    // Not stopping at a match: the next walk stops at the first known handle, so every newer one must be known.
    if (remember(handle, socket) === wanted) found = socket;
    return false;
  });
  // A walk that met no known handle saw every handle: count it as a full walk for pruning.
  if (!stoppedEarly) liveAtLastFullWalk = socketByHandle.size;
  return found;
}

function walkAllHandles(wanted: string): bigint | undefined {
  socketByKey.clear();
  socketByHandle.clear();
  let found: bigint | undefined;
  walkFromTail((handle, socket) => {
    if (remember(handle, socket) === wanted) found = socket;
    return false;
  });
  liveAtLastFullWalk = socketByHandle.size;
  return found;
}

function cachedSocket(key: string): bigint | undefined {
  const socket = socketByKey.get(key);
  if (socket === undefined) return undefined;
  if (keyOfSocket(socket) === key) return socket;
  socketByKey.delete(key);
  return undefined;
}

/**
 * The SOCKET of the Node TCP handle whose addresses have this key.
 * @throws SocketHandoffError `ERR_SOCKET_NOT_FOUND` when no live TCP handle of this process matches.
 */
export function findSocketByKey(key: string): bigint {
  const cached = cachedSocket(key);
  if (cached !== undefined) return cached;
  const prune = socketByHandle.size > Math.max(PRUNE_THRESHOLD, 2 * liveAtLastFullWalk);
  const found = (prune ? walkAllHandles(key) : walkNewHandles(key)) ?? (prune ? undefined : walkAllHandles(key));
  if (found !== undefined) return found;
  throw new SocketHandoffError(
    'ERR_SOCKET_NOT_FOUND',
    'No open TCP handle of this process has the addresses of this socket; it may have been closed.',
  );
}
