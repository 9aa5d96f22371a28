/**
 * The control channel of an Upgrader named `name`, built on the hand-off channel's transport (a
 * named pipe on Windows, a 0600 Unix socket with an flock on Linux) and its framing:
 *
 * - `<name>.upgrader`: the name itself. The serving generation listens here; a successor connects
 *   here to ask for the listeners and, later, to say it is ready.
 * - `<name>.upgrader-next`: the successor slot. Every starting generation takes it first and keeps it
 *   until it holds `<name>.upgrader` (or gives up), so that only one successor exists at a time
 *   and the name is held at every moment: by the old generation's listener, then the successor's slot.
 * - `<name>.upgrader-<pid>`: the successor's inbox, an ordinary openReceiver() that the old
 *   generation sends its listeners to, keepOpen, keyed by `meta.upgraderKey`.
 *
 * Both sides of a control connection send JSON frames (see docs/upgrades.md for the sequence).
 */
import { FrameConnection } from '../channel/frame-connection';
import type { ChannelLink, ChannelListener, ChannelPeer } from '../channel/transport';
import { SocketHandoffError } from '../errors';
import { channelTransport } from '../channel/transport';
import { platform } from '../platform';

/** Control frames are small JSON objects. */
export const CONTROL_FRAME_SIZE = 64 * 1024;

export interface ControlNames {
  control: string;
  slot: string;
  inbox(pid: number): string;
}

/**
 * The channel names for `name`, each checked by the transport.
 * @throws SocketHandoffError `ERR_INVALID_ARG_VALUE` when a name derived from `name` is not a valid channel name.
 */
export function controlNames(name: string): ControlNames {
  const names = { control: `${name}.upgrader`, slot: `${name}.upgrader-next`, inbox: (pid: number) => `${name}.upgrader-${pid}` };
  const transport = channelTransport();
  for (const derived of [names.control, names.slot, names.inbox(4294967295)]) {
    try {
      transport.endpoint(derived);
    } catch (cause) {
      const err = new SocketHandoffError('ERR_INVALID_ARG_VALUE', `The "options.name" argument cannot name the channel ${JSON.stringify(derived)}: ${(cause as Error).message}`, { cause });
      throw err;
    }
  }
  return names;
}

/**
 * Listens on channel `name` as its only holder; undefined if another process holds it.
 * @throws SocketHandoffError `ERR_CHANNEL_FAILED` and the other listen errors of the transport.
 */
export async function holdName(name: string, onConnection: (conn: FrameConnection, peer: ChannelPeer) => void): Promise<ChannelListener | undefined> {
  const transport = channelTransport();
  // Linux: the listener's flock is the lock. Windows: a named object, since Wine lets a second
  // process listen on a named pipe that is already listened on.
  const unlock = platform().takeNamedLock(name);
  if (unlock === undefined) return undefined;
  try {
    const listener = await transport.listen(
      transport.endpoint(name),
      (link: ChannelLink, peer: ChannelPeer) => onConnection(new FrameConnection(link, CONTROL_FRAME_SIZE), peer),
      () => undefined, // a failed accept on the control channel costs that one connection only
    );
    return {
      close: async () => {
        await listener.close();
        unlock();
      },
    };
  } catch (err) {
    unlock();
    if ((err as SocketHandoffError).code === 'ERR_CHANNEL_IN_USE') return undefined;
    throw err;
  }
}

/**
 * Connects to the holder of channel `name`; undefined if nobody listens there (it just went away).
 * @throws SocketHandoffError `ERR_FOREIGN_UID` (Linux: the holder runs as another user) and other transport errors.
 */
export async function reachName(name: string, timeoutMs: number): Promise<FrameConnection | undefined> {
  const transport = channelTransport();
  try {
    return new FrameConnection(await transport.connect(transport.endpoint(name), timeoutMs), CONTROL_FRAME_SIZE);
  } catch (err) {
    if ((err as SocketHandoffError).code === 'ERR_CHANNEL_UNAVAILABLE') return undefined;
    throw err;
  }
}

/** Queues the messages of a control connection, so that none is missed between two next() calls. */
export class MessageQueue {
  readonly conn: FrameConnection;
  readonly #queue: Record<string, unknown>[] = [];
  #closed = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(conn: FrameConnection) {
    this.conn = conn;
    conn.on('message', (msg: Record<string, unknown>) => {
      this.#queue.push(msg);
      this.#wake?.();
    });
    conn.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    conn.on('protocolError', (err: Error) => {
      this.#error = err;
      conn.destroy();
    });
    conn.on('transportError', () => conn.destroy());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next message; undefined once the connection closed; rejects on a protocol error or after `timeoutMs` (0: never). */
  next(timeoutMs: number, what: string): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.#queue.length > 0) resolve(this.#queue.shift());
        else if (this.#error) reject(this.#error);
        else if (this.#closed) resolve(undefined);
        else return false;
        return true;
      };
      if (check()) return;
      // timeoutMs 0: wait as long as the connection lives (no timer keeps the process alive).
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.#wake = undefined;
              reject(new SocketHandoffError('ERR_HANDSHAKE_TIMEOUT', `no ${what} within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.#wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#wake = undefined;
      };
    });
  }

  send(message: object): boolean {
    return this.conn.send(message);
  }

  destroy(): void {
    this.conn.destroy();
  }
}
