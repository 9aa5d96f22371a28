/**
 * The optional `socketForm` member of the receiver's hello (docs/protocol.md): a receiver that can
 * import sockets only PHP's way (socket_wsaprotocol_info_import) asks for `"mapping"`, and a
 * sender that understands it sends the name of a file mapping in place of a token. Any other
 * value, or none, is the token form: an old receiver never asks, and an old sender never looks.
 */
import type { SocketForm } from './transport';

/** The value of `socketForm` that asks for the mapping form. */
export const MAPPING_FORM = 'mapping';

/** The form a sender uses with the receiver whose hello is `hello`. */
export function socketFormOf(hello: object): SocketForm {
  return (hello as { socketForm?: unknown }).socketForm === MAPPING_FORM ? 'mapping' : 'token';
}
