/**
 * The two ways a socket rides in a `socket` frame on Windows (docs/protocol.md): a token, base64
 * of the WSAPROTOCOL_INFOW from WSADuplicateSocketW (the default), or, when the receiver's hello
 * asks for it, `mapping`: the name of a file mapping holding the WSAPROTOCOL_INFOA from
 * WSADuplicateSocketA, which is all PHP's socket_wsaprotocol_info_import() can take.
 * The mapping form leaves the socket's blocking mode alone (socket-handoff/php's export makes it
 * blocking): a socket given back after a nack or a timeout is exactly as it was.
 */
import { debug } from '../debug';
import { SocketHandoffError } from '../errors';
import type { SocketForm, SocketHandleInfo } from '../platform-api';
import { protocolInfoFromBytes } from '../protocol-info';
import { encodeProtocolInfo, tokenToBytes } from '../token-codec';
import { closeMapping } from './file-mapping';
import { exportToMapping, importFromMapping } from './php-mapping';
import { duplicateSocket, importSocket } from './tokens';

const NOTHING = (): void => undefined;

/**
 * The frame's fields for `socket`, made for process `peerPid` in `form`, and `settle()`, which
 * frees what the form holds until the receiver has read it (the mapping's handle): call it once
 * the hand-off is settled, whichever way. Nothing stays open if this throws.
 * @throws WinsockError (WSADuplicateSocketW/A, CreateFileMappingW, MapViewOfFile)
 */
export function socketFields(socket: bigint, peerPid: number, form: SocketForm | undefined): { fields: Record<string, unknown>; settle: () => void } {
  if (form !== 'mapping') return { fields: { token: encodeProtocolInfo(duplicateSocket(socket, peerPid)) }, settle: NOTHING };
  const { name, map } = exportToMapping(socket, peerPid);
  let open = true;
  const settle = () => {
    if (!open) return;
    open = false;
    try {
      closeMapping(map);
    } catch (err) {
      // Our own handle, opened above: closing it cannot fail unless the process's handle table is broken.
      debug('channel %d: cannot close mapping %s: %s', process.pid, name, (err as Error).message);
    }
  };
  return { fields: { mapping: name }, settle };
}

/**
 * Imports the socket a `socket` frame carries, by token or by mapping (exactly one of them; their
 * types were checked with the frame, messages.ts).
 * @throws SocketHandoffError `ERR_MALFORMED_FRAME` (both or neither), `ERR_INVALID_TOKEN`,
 *   `ERR_INVALID_MAPPING`; WinsockError `WSAE…` when Windows refuses a well-formed struct.
 */
export function socketFromFrame(message: { token?: string; mapping?: string }): SocketHandleInfo {
  const { token, mapping } = message;
  if (token !== undefined && mapping !== undefined) throw new SocketHandoffError('ERR_MALFORMED_FRAME', 'a socket frame carries a token or a mapping, not both');
  if (mapping !== undefined) return importFromMapping(mapping);
  if (token === undefined) throw new SocketHandoffError('ERR_MALFORMED_FRAME', 'a socket frame needs a token or a mapping');
  const bytes = tokenToBytes(token);
  // Structural checks first: "ChainLen 9 out of range" says more than the provider's WSAESOCKTNOSUPPORT.
  protocolInfoFromBytes(bytes);
  return importSocket(bytes);
}
