/**
 * Listeners whose raw socket this package holds itself (HandoverServer), so that code below the
 * core (the channel's platform transports) can hand one over without knowing the class.
 */
const listeners = new WeakMap<object, () => bigint | undefined>();

/** Called by HandoverServer's constructor: `handle()` is its raw socket while it listens. */
export function registerControlledListener(server: object, handle: () => bigint | undefined): void {
  listeners.set(server, handle);
}

/** For a controlled listener, its raw socket (undefined once closed); null for anything else. */
export function controlledListenerHandle(target: object): bigint | undefined | null {
  const handle = listeners.get(target);
  return handle === undefined ? null : handle();
}
