/** socket-handoff: hand live sockets from one process to another. This module only re-exports. */
export { exportSocket, importSocket, type ExportableSocket, type ExportOptions } from './token-api';
export { socketInformationOptions, SocketInformationOptions } from './dotnet-options';
export { encodeProtocolInfo, decodeProtocolInfo } from './token-codec';
export { PROTOCOL_INFO_SIZE, type ProtocolInfo } from './protocol-info';
export { HandoverServer, type HandoffSender, type HandoverListenOptions } from './handover-server';
export { SocketHandle, type SocketHandleInfo, type AdoptSocketOptions } from './socket-handle';
export { SocketHandoffError, InvalidTokenError, WinsockError, PosixError, type SocketHandoffErrorCode, type WinsockErrorCode, type PosixErrorCode, type ErrorCode } from './errors';
export { openReceiver, SocketReceiver, type ReceiverOptions, type SocketInfo, type OnSocket } from './channel/receiver';
export { openSender, SocketSender, type SenderOptions, type SendOptions, type SendResult } from './channel/sender';
export { PROTOCOL_VERSION } from './channel/messages';
export { MAX_FRAME_SIZE } from './channel/frame-codec';
export { detachWebSocket, attachWebSocket, sendWebSocket, type DetachedWebSocket, type DetachOptions, type SendWebSocketOptions, type AttachOptions, type WebSocketLike, type WebSocketClass } from './websocket';
export { Upgrader, type UpgraderOptions, type UpgradeOptions } from './upgrader';
