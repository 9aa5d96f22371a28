/** Tracing for NODE_DEBUG=socket-handoff: handshakes, hand-offs, acks and refusals, with pids. */
import { debuglog } from 'node:util';

export const debug = debuglog('socket-handoff');
