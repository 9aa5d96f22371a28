/**
 * Loads a DLL on the first call of one of its functions, never on import, so that importing this
 * package on Linux never touches ws2_32.dll.
 */
import koffi from 'koffi';
import { SocketHandoffError } from '../errors';
import './koffi-types';

type KoffiLib = ReturnType<typeof koffi.load>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => any;

/** Returns a binder: `bind(prototype)` gives a function that loads the DLL and binds itself on first call. */
export function lazyLibrary(path: string): <F extends AnyFn>(prototype: string) => F {
  let lib: KoffiLib | undefined;
  const bindNow = (prototype: string): AnyFn => {
    try {
      return (lib ??= koffi.load(path)).func(prototype);
    } catch (cause) {
      throw new SocketHandoffError(
        'ERR_BINDING_UNAVAILABLE',
        `Cannot bind ${prototype.replace(/\(.*/, '')} from ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
  };
  return <F extends AnyFn>(prototype: string): F => {
    let fn: AnyFn | undefined;
    return ((...args: unknown[]) => {
      fn ??= bindNow(prototype);
      return fn(...args);
    }) as F;
  };
}
