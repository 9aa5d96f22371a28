/** A realistic WSAPROTOCOL_INFOW sample shared by the codec tests, and jest matchers for coded errors. */
import type { ProtocolInfo } from '../../src/protocol-info';

/** Member offsets of WSAPROTOCOL_INFOW as the SDK documents them (the table). */
export const SDK_OFFSETS: Readonly<Record<string, number>> = {
  dwServiceFlags1: 0,
  ProviderId: 20,
  dwCatalogEntryId: 36,
  ProtocolChain: 40,
  iVersion: 72,
  iAddressFamily: 76,
  iSocketType: 88,
  iProtocol: 92,
  dwProviderReserved: 112,
  szProtocol: 116,
};

export const TCP_PROVIDER_ID = '{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}';

/**
 * A WSAPROTOCOL_INFOW as Windows hands out for an AF_INET TCP socket, written byte by byte
 * from the SDK offsets so the codec is checked against an independent source.
 */
export function sampleBytes(): Buffer {
  const bytes = Buffer.alloc(628);
  bytes.writeUInt32LE(0x20066, 0); // dwServiceFlags1
  bytes.writeUInt32LE(8, 16); // dwProviderFlags
  Buffer.from('A01A0FE78BABCF118CA300805F48A192', 'hex').copy(bytes, 20); // ProviderId
  bytes.writeUInt32LE(1001, 36); // dwCatalogEntryId
  bytes.writeInt32LE(1, 40); // ProtocolChain.ChainLen (BASE_PROTOCOL)
  bytes.writeInt32LE(2, 72); // iVersion
  bytes.writeInt32LE(2, 76); // iAddressFamily (AF_INET)
  bytes.writeInt32LE(16, 80); // iMaxSockAddr
  bytes.writeInt32LE(16, 84); // iMinSockAddr
  bytes.writeInt32LE(1, 88); // iSocketType (SOCK_STREAM)
  bytes.writeInt32LE(6, 92); // iProtocol (IPPROTO_TCP)
  bytes.writeInt32LE(0, 100); // iNetworkByteOrder (BIGENDIAN)
  bytes.writeUInt32LE(0x12345678, 112); // dwProviderReserved
  bytes.write('MSAFD Tcpip [TCP/IP]', 116, 'utf16le'); // szProtocol
  return bytes;
}

export function sampleInfo(): ProtocolInfo {
  return {
    dwServiceFlags1: 0x20066,
    dwServiceFlags2: 0,
    dwServiceFlags3: 0,
    dwServiceFlags4: 0,
    dwProviderFlags: 8,
    ProviderId: TCP_PROVIDER_ID,
    dwCatalogEntryId: 1001,
    ProtocolChain: { ChainLen: 1, ChainEntries: [0, 0, 0, 0, 0, 0, 0] },
    iVersion: 2,
    iAddressFamily: 2,
    iMaxSockAddr: 16,
    iMinSockAddr: 16,
    iSocketType: 1,
    iProtocol: 6,
    iProtocolMaxOffset: 0,
    iNetworkByteOrder: 0,
    iSecurityScheme: 0,
    dwMessageSize: 0,
    dwProviderReserved: 0x12345678,
    szProtocol: 'MSAFD Tcpip [TCP/IP]',
  };
}

/**
 * The sample with what Windows leaves behind: stack garbage after the szProtocol NUL and, if asked,
 * in the chain slots beyond ChainLen.
 */
export function sampleWithGarbage({ inUnusedChainSlots = false } = {}): Buffer {
  const bytes = sampleBytes();
  for (let i = 116 + 2 * 21; i < 628; i++) bytes[i] = (i * 37 + 11) & 0xff;
  if (inUnusedChainSlots) for (let i = 48; i < 72; i++) bytes[i] = 0xcc;
  return bytes;
}

export const coded = (code: string, message: RegExp) => {
  return expect.objectContaining({ code, message: expect.stringMatching(message) });
};
export const tokenError = (message: RegExp) => coded('ERR_INVALID_TOKEN', message);
