/** Turns a failed libc call into a PosixError (`code` 'EACCES', `errno` 13, `syscall`), as Node does. */
import koffi from 'koffi';
import * as util from 'node:util';
import { PosixError, type PosixErrorCode } from '../errors';

/** Reads errno now: call this right after the failed call, before anything else touches libc. */
export function lastErrno(): number {
  return koffi.errno();
}

export function posixError(syscall: string, errno: number, detail?: string): PosixError {
  const [code, text] = util.getSystemErrorMap().get(-errno) ?? [`E${errno}`, 'unknown error'];
  return new PosixError(syscall, errno, code as PosixErrorCode, detail ? `${text} (${detail})` : text);
}
