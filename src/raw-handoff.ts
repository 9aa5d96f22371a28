/**
 * Senders that can hand over a raw accepted socket, so that HandoverServer's `sendTo` can use a
 * SocketSender without importing the channel (which imports HandoverServer). A SocketSender marks
 * itself at construction; the mark is a registered symbol, as in controlled-listener.ts.
 */
const RAW = Symbol.for('socket-handoff.rawHandoff');

/** What a marked sender offers: a hand-off of a raw socket, and whether its channel is still open. */
export interface RawHandoff {
  /**
   * Hands the raw socket `raw` (a SOCKET on Windows, a descriptor on Linux) to the receiver.
   * `letGo` runs once the receiver has it (closing this process's copy); on failure `raw` is
   * untouched and still the caller's.
   */
  send(raw: bigint, allowHalfOpen: boolean, letGo: () => void): Promise<unknown>;
  available(): boolean;
}

type Marked = { [RAW]?: RawHandoff };

/** Called by SocketSender's constructor. */
export function registerRawHandoff(sender: object, handoff: RawHandoff): void {
  Object.defineProperty(sender, RAW, { value: handoff, enumerable: false });
}

/** The raw hand-off of a SocketSender; undefined for anything else. */
export function rawHandoffOf(target: unknown): RawHandoff | undefined {
  if (target === null || typeof target !== 'object') return undefined;
  return (target as Marked)[RAW];
}
