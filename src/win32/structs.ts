/**
 * Winsock structs as koffi types. Member names are the SDK's, so test/win32/structs.test.ts can
 * check them, their offsets and the total size against the SDK table (src/protocol-info.ts).
 * The structs are anonymous: koffi's type names are process-wide, and no prototype needs them by name.
 */
import koffi from 'koffi';

/** https://learn.microsoft.com/en-us/windows/win32/api/guiddef/ns-guiddef-guid */
export const GUID = koffi.struct({
  Data1: 'uint32_t',
  Data2: 'uint16_t',
  Data3: 'uint16_t',
  Data4: koffi.array('uint8_t', 8),
});

/** MAX_PROTOCOL_CHAIN in winsock2.h. */
export const MAX_PROTOCOL_CHAIN = 7;
/** WSAPROTOCOL_LEN in winsock2.h; szProtocol holds WSAPROTOCOL_LEN + 1 WCHARs. */
export const WSAPROTOCOL_LEN = 255;

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/ns-winsock2-wsaprotocolchain */
export const WSAPROTOCOLCHAIN = koffi.struct({
  ChainLen: 'int32_t',
  ChainEntries: koffi.array('uint32_t', MAX_PROTOCOL_CHAIN),
});

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/ns-winsock2-wsaprotocol_infow */
export const WSAPROTOCOL_INFOW = koffi.struct({
  dwServiceFlags1: 'uint32_t',
  dwServiceFlags2: 'uint32_t',
  dwServiceFlags3: 'uint32_t',
  dwServiceFlags4: 'uint32_t',
  dwProviderFlags: 'uint32_t',
  ProviderId: GUID,
  dwCatalogEntryId: 'uint32_t',
  ProtocolChain: WSAPROTOCOLCHAIN,
  iVersion: 'int32_t',
  iAddressFamily: 'int32_t',
  iMaxSockAddr: 'int32_t',
  iMinSockAddr: 'int32_t',
  iSocketType: 'int32_t',
  iProtocol: 'int32_t',
  iProtocolMaxOffset: 'int32_t',
  iNetworkByteOrder: 'int32_t',
  iSecurityScheme: 'int32_t',
  dwMessageSize: 'uint32_t',
  dwProviderReserved: 'uint32_t',
  szProtocol: koffi.array('uint16_t', WSAPROTOCOL_LEN + 1),
});

/**
 * Large enough for any sockaddr Winsock returns for TCP/UDP (sockaddr_in6 is 28 bytes).
 * https://learn.microsoft.com/en-us/windows/win32/api/ws2def/ns-ws2def-sockaddr_storage_lh
 */
export const SOCKADDR_STORAGE_SIZE = 128;
