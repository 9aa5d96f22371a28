/**
 * Finds the Winsock SOCKET behind a Node `net.Socket` or `net.Server` on Windows.
 *
 * Node does not expose it (`_handle.fd` is -1 on Windows). Two ways, both over the TCP handles of
 * libuv's default loop:
 *  - by async id (handle-async-id.ts), once learned: read from memory, with no Winsock call;
 *  - by address key: the handle's addresses, which Node does expose, against each handle's SOCKET's
 *    addresses from Winsock. It finds every socket, and teaches the first way.
 * The key lookup's cost must not grow with the number of sockets the process has open, so:
 *  - a SOCKET found once is cached by its address key and re-checked with two Winsock calls;
 *  - new handles are appended at the tail of libuv's handle queue, so a miss walks from the tail
 *    backwards and stops at the first handle it has already seen: only handles created since the
 *    last walk are examined. A full walk happens only when that fails (e.g. the cache was pruned).
 */
import { SocketHandoffError } from '../errors';
import { sockaddrKey, socketKey } from '../endpoint-key';
import { AF_INET, AF_INET6, UV_TCP } from './constants';
import { readSockaddr } from './socket-address';
import type { NodeSocketIdentity } from '../platform-api';
import { asyncIdOfHandle, asyncIdReadable, learnAsyncId } from './handle-async-id';
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

/** Handles the async-id walk has seen (handle → SOCKET), and the SOCKET of each async id read there. */
const seenByAsyncWalk = new Map<bigint, bigint>();
const socketByAsyncId = new Map<number, bigint>();

/**
 * The SOCKET of the open TCP handle whose async id is `asyncId`: remembered from an earlier walk,
 * or found among the handles created since (newest first). A remembered one needs no re-check:
 * async ids are never reused, and the caller's handle is open (node-socket.ts refuses a closed
 * one), so the handle seen with this id is still open, with the same SOCKET. Undefined when the
 * handle is not found this way: the address key finds it.
 */
function findSocketByAsyncId(asyncId: number): bigint | undefined {
  const known = socketByAsyncId.get(asyncId);
  if (known !== undefined) return known;
  if (seenByAsyncWalk.size > Math.max(PRUNE_THRESHOLD, 2 * liveAtLastFullWalk)) {
    seenByAsyncWalk.clear();
    socketByAsyncId.clear();
  }
  walkFromTail((handle, socket) => {
    if (seenByAsyncWalk.get(handle) === socket) return true;
    seenByAsyncWalk.set(handle, socket);
    const id = asyncIdOfHandle(handle);
    if (id !== undefined) socketByAsyncId.set(id, socket);
    return false;
  });
  return socketByAsyncId.get(asyncId);
}

/** Teaches handle-async-id.ts from a handle whose SOCKET was found by its key. */
function learnFrom(socket: bigint, asyncId: number): void {
  walkFromTail((handle, own) => {
    if (own !== socket) return false;
    learnAsyncId(handle, asyncId);
    return true;
  });
}

/**
 * The SOCKET of a Node socket or server: by its async id when that can be read, else by its
 * address key (which then checks or teaches where async ids are).
 * @throws SocketHandoffError `ERR_SOCKET_NOT_FOUND` when no live TCP handle of this process matches,
 * `ERR_SOCKET_CLOSED` when the socket has no address any more.
 */
export function findNodeSocket(identity: NodeSocketIdentity): bigint {
  const { asyncId } = identity;
  if (asyncId !== undefined && asyncIdReadable()) {
    const found = findSocketByAsyncId(asyncId);
    if (found !== undefined) return found;
  }
  const socket = findSocketByKey(identity.key());
  if (asyncId !== undefined) learnFrom(socket, asyncId);
  return socket;
}
