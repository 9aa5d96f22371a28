/**
 * The koffi declarations against the SDK: size, every member offset, and member names equal to the
 * ProtocolInfo names the codec uses (a field named differently in TS and koffi is a silent bug).
 * koffi computes layouts on any OS, so this runs on Linux too; no DLL is loaded.
 */
import koffi from 'koffi';
import { PROTOCOL_INFO_LAYOUT, PROTOCOL_INFO_SIZE, protocolInfoFromBytes } from '../../src/protocol-info';
import { GUID, WSAPROTOCOL_INFOW, WSAPROTOCOLCHAIN } from '../../src/win32/structs';
import { SDK_OFFSETS } from '../support/protocol-info-sample';

const membersOf = (type: { members?: Record<string, { type: unknown }> }) => type.members ?? {};


describe('WSAPROTOCOL_INFOW koffi struct', () => {
  it('is 628 bytes, as sizeof(WSAPROTOCOL_INFOW) in the SDK', () => {
    expect(koffi.sizeof(WSAPROTOCOL_INFOW)).toBe(628);
    expect(PROTOCOL_INFO_SIZE).toBe(628);
    expect(koffi.sizeof(GUID)).toBe(16);
    expect(koffi.sizeof(WSAPROTOCOLCHAIN)).toBe(32);
  });

  it.each(Object.entries(SDK_OFFSETS))('puts %s at SDK offset %i', (name, offset) => {
    expect(koffi.offsetof(WSAPROTOCOL_INFOW, name)).toBe(offset);
  });

  it('matches the codec layout table member by member, in order', () => {
    const koffiMembers = Object.keys(membersOf(WSAPROTOCOL_INFOW));
    expect(koffiMembers).toEqual(Object.keys(PROTOCOL_INFO_LAYOUT));
    for (const name of koffiMembers) {
      const entry = (PROTOCOL_INFO_LAYOUT as Record<string, { offset: number; size: number }>)[name];
      expect({ name, offset: koffi.offsetof(WSAPROTOCOL_INFOW, name), size: koffi.sizeof(membersOf(WSAPROTOCOL_INFOW)[name].type as never) }).toEqual({
        name,
        offset: entry.offset,
        size: entry.size,
      });
    }
  });

  it('uses the same member names as the decoded ProtocolInfo object', () => {
    const decoded = protocolInfoFromBytes(Buffer.alloc(628));
    expect(Object.keys(membersOf(WSAPROTOCOL_INFOW)).sort()).toEqual(Object.keys(decoded).sort());
    expect(Object.keys(membersOf(WSAPROTOCOLCHAIN)).sort()).toEqual(Object.keys(decoded.ProtocolChain).sort());
    expect(koffi.offsetof(WSAPROTOCOLCHAIN, 'ChainEntries')).toBe(4);
  });

  it('decodes bytes koffi encoded into the struct the same way the codec does', () => {
    const buf = Buffer.alloc(628);
    const value = {
      dwServiceFlags1: 0x20066, dwServiceFlags2: 0, dwServiceFlags3: 0, dwServiceFlags4: 0, dwProviderFlags: 8,
      ProviderId: { Data1: 0xe70f1aa0, Data2: 0xab8b, Data3: 0x11cf, Data4: [0x8c, 0xa3, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92] },
      dwCatalogEntryId: 1001, ProtocolChain: { ChainLen: 1, ChainEntries: [0, 0, 0, 0, 0, 0, 0] },
      iVersion: 2, iAddressFamily: 23, iMaxSockAddr: 28, iMinSockAddr: 28, iSocketType: 1, iProtocol: 6,
      iProtocolMaxOffset: 0, iNetworkByteOrder: 0, iSecurityScheme: 0, dwMessageSize: 0, dwProviderReserved: 7,
      szProtocol: [...'MSAFD Tcpip [TCP/IPv6]'].map((c) => c.charCodeAt(0)).concat(Array(256 - 22).fill(0)),
    };
    koffi.encode(buf, WSAPROTOCOL_INFOW, value);
    const decoded = protocolInfoFromBytes(buf);
    expect(decoded).toMatchObject({
      ProviderId: '{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}',
      iAddressFamily: 23,
      iMaxSockAddr: 28,
      dwProviderReserved: 7,
      szProtocol: 'MSAFD Tcpip [TCP/IPv6]',
    });
  });
});
