/**
 * Listeners whose raw socket this package holds itself (HandoverServer), so that code below the
 * core (the channel's platform transports) can hand one over without knowing the class. The mark
 * is a registered symbol, so that a second copy of the package in the process recognises it too.
 */
const HANDLE = Symbol.for('socket-handoff.controlledListenerHandle');

type Marked = { [HANDLE]?: () => bigint | undefined };

/** Called by HandoverServer's constructor: `handle()` is its raw socket while it listens. */
export function registerControlledListener(server: object, handle: () => bigint | undefined): void {
  Object.defineProperty(server, HANDLE, { value: handle, enumerable: false });
}

/** For a controlled listener, its raw socket (undefined once closed); null for anything else. */
export function controlledListenerHandle(target: object): bigint | undefined | null {
  const handle = (target as Marked)[HANDLE];
  return typeof handle === 'function' ? handle() : null;
}
