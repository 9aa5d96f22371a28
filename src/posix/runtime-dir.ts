/**
 * Where channel sockets live: `$XDG_RUNTIME_DIR/socket-handoff/<name>.sock` when the session has a
 * runtime folder, else `<tmpdir>/socket-handoff-<uid>/<name>.sock`. The uid is the effective one,
 * as everywhere on Linux: the kernel reports it in SO_PEERCRED and stamps it on the files this
 * process creates (docs/protocol.md, "Where the channel lives"). Either folder is created with
 * mode 0700 and refused if it belongs to another user or others may write to it (someone could
 * otherwise plant a socket there and receive our connections).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalidArgValue, SocketHandoffError } from '../errors';

const NAME = /^[A-Za-z0-9._-]{1,80}$/;

/** The folder for this user's channel sockets (not created here). */
export function runtimeDirectory(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'socket-handoff');
  return path.join(os.tmpdir(), `socket-handoff-${process.geteuid?.() ?? 'user'}`);
}

/** The socket path of channel `name`: `name` itself if absolute, else a file in runtimeDirectory(). */
export function channelPath(name: string): string {
  if (path.isAbsolute(name)) return name;
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw invalidArgValue('name', 'a channel name of 1 to 80 letters, digits, ".", "_" or "-", or an absolute socket path', name);
  }
  return path.join(runtimeDirectory(), `${name}.sock`);
}

/** Creates the runtime folder (0700) if needed, and checks it is private to this user. */
export function ensurePrivateDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new SocketHandoffError('ERR_CHANNEL_FAILED', `cannot create ${dir}: ${(err as Error).message}`, { cause: err });
    }
  }
  checkPrivateDirectory(dir, 'ERR_CHANNEL_FAILED');
}

/** Throws `code` unless `dir` is a real folder owned by this user that no one else may write to. */
export function checkPrivateDirectory(dir: string, code: 'ERR_CHANNEL_FAILED' | 'ERR_CHANNEL_UNAVAILABLE'): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    throw new SocketHandoffError(code, `${dir}: ${(err as Error).message}`, { cause: err });
  }
  const uid = process.geteuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new SocketHandoffError(
      code,
      `${dir} is not a private folder of this user (owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}); refusing to use it for channel sockets`,
    );
  }
}
