/** socket-handoff: hand live sockets from one process to another. This module only re-exports. */
export { exportSocket, importSocket, type ExportableSocket } from './token-api';
export { encodeProtocolInfo, decodeProtocolInfo } from './token-codec';
export { PROTOCOL_INFO_SIZE, type ProtocolInfo } from './protocol-info';
export { SocketHandle, type SocketHandleInfo } from './socket-handle';
export { SocketHandoffError, InvalidTokenError, WinsockError, type SocketHandoffErrorCode } from './errors';
