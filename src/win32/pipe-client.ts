/**
 * Who is at the other end of the pipe connection Node accepted last. libuv creates pipes without
 * PIPE_REJECT_REMOTE_CLIENTS, so a receiver checks each client itself. Node hides the pipe HANDLE
 * like it hides SOCKETs; at the moment Node emits 'connection', the accepted pipe is the newest
 * server end of a pipe among the loop's UV_NAMED_PIPE handles (Node creates it just before it
 * accepts and calls back). Client ends, such as a child process's piped stdio that Node opens
 * lazily (Node 22 opens stderr when koffi loads), are skipped.
 */
import { SocketHandoffError } from '../errors';
import { PIPE_SERVER_END, UV_NAMED_PIPE } from './constants';
import { GetNamedPipeClientComputerNameW, GetNamedPipeClientProcessId, GetNamedPipeInfo } from './kernel32';
import { walkHandlesFromTail } from './libuv-handles';

export interface PipeClient {
  /** The client's pid (GetNamedPipeClientProcessId). */
  pid?: number;
  /** Set when the client is on another computer (GetNamedPipeClientComputerNameW). */
  remoteComputer?: string;
}

function computerName(pipe: bigint): string | undefined {
  const buf = Buffer.alloc(2 * 256);
  try {
    // Fails with ERROR_PIPE_LOCAL for a client on this machine.
    if (!GetNamedPipeClientComputerNameW(pipe, buf, buf.length)) return undefined;
  } catch (err) {
    // Wine 8 does not export it; it has no remote pipe clients either.
    if ((err as SocketHandoffError).code === 'ERR_BINDING_UNAVAILABLE') return undefined;
    throw err;
  }
  return buf.toString('utf16le').replace(/\0[\s\S]*$/, '');
}

/** Call synchronously from the pipe server's 'connection' event. */
export function newestPipeClient(): PipeClient {
  let pipe: bigint | undefined;
  const flags = [0];
  walkHandlesFromTail(UV_NAMED_PIPE, (_handle, osHandle) => {
    if (!GetNamedPipeInfo(osHandle, flags, null, null, null) || (flags[0] & PIPE_SERVER_END) === 0) return false;
    pipe = osHandle;
    return true;
  });
  if (pipe === undefined) return {};
  const client: PipeClient = {};
  const pid = [0];
  if (GetNamedPipeClientProcessId(pipe, pid)) client.pid = pid[0];
  const remote = computerName(pipe);
  if (remote !== undefined) client.remoteComputer = remote;
  return client;
}
