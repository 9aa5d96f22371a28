/**
 * systemd's side of an upgrade, on Linux: listeners passed by socket activation (sd_listen_fds(3):
 * LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, descriptors from 3), and readiness (sd_notify(3):
 * MAINPID= and READY=1 to NOTIFY_SOCKET). Elsewhere both are no-ops.
 */
import { SocketHandoffError } from '../errors';
import { debug } from '../channel/debug';
import { platform } from '../platform';
import type { SocketHandleInfo } from '../platform-api';
import { heldSocket, type HeldListener } from './held-listener';

/** SD_LISTEN_FDS_START. */
const FIRST_FD = 3;

/** What each inherited descriptor turned out to be, read once when it was taken (or why it is unusable). */
const factsOf = new WeakMap<HeldListener, SocketHandleInfo | Error>();

/**
 * The listeners systemd passed to this process, by name (LISTEN_FDNAMES; a name given twice keeps
 * its first descriptor, the others are returned under `extra`). Like sd_listen_fds(1), the
 * variables are removed from process.env whatever they hold, so that no child inherits them, and
 * the descriptors are made close-on-exec (and non-blocking, which HandoverServer's accept path needs).
 * @throws SocketHandoffError `ERR_SYSTEMD_FDS` when LISTEN_PID is this process but LISTEN_FDS or LISTEN_FDNAMES are malformed.
 */
export function takeSystemdListeners(env: NodeJS.ProcessEnv = process.env): { byName: Map<string, HeldListener>; extra: HeldListener[] } {
  const pid = env.LISTEN_PID;
  const fds = env.LISTEN_FDS;
  const names = env.LISTEN_FDNAMES;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  const byName = new Map<string, HeldListener>();
  const extra: HeldListener[] = [];
  if (process.platform !== 'linux' || pid === undefined || Number(pid) !== process.pid) {
    if (pid !== undefined) debug('upgrader %d: LISTEN_PID=%s is not this process; ignoring LISTEN_FDS', process.pid, pid);
    return { byName, extra };
  }
  const count = Number(fds);
  if (!/^\d+$/.test(fds ?? '') || count < 1 || count > 1024) {
    throw new SocketHandoffError('ERR_SYSTEMD_FDS', `LISTEN_FDS must be a count of descriptors from 1 to 1024, not ${JSON.stringify(fds)}`);
  }
  const list = names === undefined ? [] : names.split(':');
  if (names !== undefined && list.length !== count) {
    throw new SocketHandoffError('ERR_SYSTEMD_FDS', `LISTEN_FDNAMES has ${list.length} names for ${count} descriptors`);
  }
  for (let i = 0; i < count; i++) {
    const fd = FIRST_FD + i;
    const held = heldSocket(BigInt(fd));
    try {
      // Close-on-exec and non-blocking now; closed at once when it is not an IPv4/IPv6 socket.
      factsOf.set(held, platform().inheritedSocket(fd));
    } catch (cause) {
      held.forget();
      factsOf.set(held, cause as Error);
    }
    // Without LISTEN_FDNAMES systemd's default name is "unknown"; such listeners answer to that key.
    const name = list[i] ?? 'unknown';
    if (byName.has(name)) extra.push(held);
    else byName.set(name, held);
  }
  debug('upgrader %d: systemd passed %d listener(s): %s', process.pid, count, [...byName.keys()].join(', '));
  return { byName, extra };
}

/** Checks that a descriptor from systemd is a listening IPv4/IPv6 stream socket; closes it otherwise. */
export function checkSystemdListener(key: string, held: HeldListener): void {
  const facts = factsOf.get(held);
  if (facts === undefined || facts instanceof Error) {
    throw new SocketHandoffError('ERR_SYSTEMD_FDS', `systemd's listener "${key}" (fd ${held.handle}) is not an IPv4/IPv6 socket; it was closed`, { cause: facts });
  }
  if (facts.type !== 1 /* SOCK_STREAM */ || !facts.listening) {
    held.close();
    throw new SocketHandoffError('ERR_SYSTEMD_FDS', `systemd's listener "${key}" (fd ${held.handle}) is not a listening TCP socket; it was closed`);
  }
}

/**
 * sd_notify(3) to $NOTIFY_SOCKET, if set (Linux only). Returns false when there is no socket.
 * @throws PosixError when the datagram cannot be sent.
 */
export function notifySystemd(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const target = env.NOTIFY_SOCKET;
  if (process.platform !== 'linux' || !target) return false;
  platform().notifySystemd(target, state);
  debug('upgrader %d: sd_notify %s: %j', process.pid, target, state);
  return true;
}
