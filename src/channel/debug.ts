/** The channel's tracing: the package's one debuglog (NODE_DEBUG=socket-handoff). */
export { debug } from '../debug';
