/**
 * A lock held by the existence of a named kernel object (a mutex nobody waits on): the first
 * process to create `Local\socket-handoff-<name>` holds it until it closes its handle, or exits.
 * Real Windows already refuses a second listener on a named pipe (libuv asks for
 * FILE_FLAG_FIRST_PIPE_INSTANCE), but Wine 8 does not: this makes "one holder per name" hold on both.
 * The handle is not inheritable (no security attributes), so no child keeps a lock alive.
 */
import { ERROR_ALREADY_EXISTS } from './constants';
import { CloseHandle, CreateMutexW, GetLastError } from './kernel32';
import { winsockError } from './winsock-error';

/** Takes the lock `name`; returns its release, or undefined if another handle holds it. */
export function takeNamedLock(name: string): (() => void) | undefined {
  const handle = BigInt(CreateMutexW(null, 0, `Local\\socket-handoff-${name}`));
  const error = GetLastError();
  if (handle === 0n) throw winsockError('CreateMutexW', error);
  if (error === ERROR_ALREADY_EXISTS) {
    CloseHandle(handle);
    return undefined;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    CloseHandle(handle);
  };
}
