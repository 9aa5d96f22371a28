/**
 * Loads a shared library (a DLL, libc, or the node binary itself) on the first call of one of its
 * functions, never on import, so that importing this package on Linux never touches ws2_32.dll.
 */
import koffi from 'koffi';
import { SocketHandoffError } from './errors';

type KoffiLib = ReturnType<typeof koffi.load>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => any;

/** A bound function, plus koffi's `.async` form: same arguments and a final `(err, result)` callback, run on a worker thread. */
export type Bound<F extends AnyFn> = F & {
  async: (...args: [...Parameters<F>, (err: unknown, result: ReturnType<F>) => void]) => void;
};

/** Returns a binder: `bind(prototype)` gives a function that loads the library (null: the running executable) and binds itself on first call. */
export function lazyLibrary(path: string | null): <F extends AnyFn>(prototype: string) => Bound<F> {
  let lib: KoffiLib | undefined;
  const bindNow = (prototype: string): AnyFn => {
    try {
      return (lib ??= koffi.load(path as string)).func(prototype);
    } catch (cause) {
      throw new SocketHandoffError(
        'ERR_BINDING_UNAVAILABLE',
        `Cannot bind ${prototype.replace(/\(.*/, '')} from ${path ?? 'the node executable'}: ${(cause as Error).message}`,
        { cause },
      );
    }
  };
  return <F extends AnyFn>(prototype: string): Bound<F> => {
    let fn: AnyFn | undefined;
    const bound = ((...args: unknown[]) => {
      fn ??= bindNow(prototype);
      return fn(...args);
    }) as Bound<F>;
    bound.async = (...args: unknown[]) => {
      fn ??= bindNow(prototype);
      (fn as AnyFn & { async: AnyFn }).async(...args);
    };
    return bound;
  };
}
