/**
 * The pid file, written atomically: the new pid goes to a temporary file next to it, which is then
 * renamed over it, so a reader never sees a half-written or empty file. A stale file (from a
 * generation that crashed) is simply replaced.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SocketHandoffError } from '../errors';

/** Writes `pid` to a temporary file beside `file` and returns a function that renames it into place. */
export function preparePidFile(file: string, pid: number = process.pid): { commit(): void; discard(): void } {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
  try {
    fs.writeFileSync(temp, `${pid}\n`, { mode: 0o644 });
  } catch (cause) {
    throw new SocketHandoffError('ERR_PID_FILE', `cannot write the pid file ${file}: ${(cause as Error).message}`, { cause });
  }
  const discard = () => fs.rmSync(temp, { force: true });
  return {
    commit() {
      try {
        fs.renameSync(temp, file);
      } catch (cause) {
        discard();
        throw new SocketHandoffError('ERR_PID_FILE', `cannot rename ${temp} to ${file}: ${(cause as Error).message}`, { cause });
      }
    },
    discard,
  };
}

/** The pid in `file`, or undefined if there is none or it is not a pid. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
