import {
  PROTOCOL_INFO_LAYOUT,
  PROTOCOL_INFO_SIZE,
  ProtocolInfo,
  protocolInfoFromBytes,
  protocolInfoToBytes,
} from '../src/protocol-info';
import { coded, SDK_OFFSETS, sampleBytes, sampleInfo, sampleWithGarbage, tokenError, TCP_PROVIDER_ID } from './support/protocol-info-sample';

const argTypeError = (message: RegExp) => coded('ERR_INVALID_ARG_TYPE', message);
const argValueError = (message: RegExp) => coded('ERR_INVALID_ARG_VALUE', message);

describe('PROTOCOL_INFO_LAYOUT', () => {
  test('matches the SDK offsets', () => {
    expect(PROTOCOL_INFO_SIZE).toBe(628);
    const offsets = Object.fromEntries(Object.entries(PROTOCOL_INFO_LAYOUT).map(([k, v]) => [k, v.offset]));
    expect(offsets).toMatchObject(SDK_OFFSETS);
    expect(PROTOCOL_INFO_LAYOUT.ProviderId.size).toBe(16);
    expect(PROTOCOL_INFO_LAYOUT.ProtocolChain.size).toBe(32);
    expect(PROTOCOL_INFO_LAYOUT.szProtocol.size).toBe(512);
  });

  test('lists exactly the SDK members, in struct order', () => {
    expect(Object.keys(PROTOCOL_INFO_LAYOUT)).toEqual(Object.keys(sampleInfo()));
  });

  test('members tile the 628 bytes without gaps or overlap', () => {
    const members = Object.values(PROTOCOL_INFO_LAYOUT).sort((a, b) => a.offset - b.offset);
    let end = 0;
    for (const { offset, size } of members) {
      expect(offset).toBe(end);
      end = offset + size;
    }
    expect(end).toBe(PROTOCOL_INFO_SIZE);
  });

  test('ProtocolChain members tile its 32 bytes (offsets relative to ProtocolChain)', () => {
    const { ChainLen, ChainEntries } = PROTOCOL_INFO_LAYOUT.ProtocolChain.members;
    expect(ChainLen).toEqual({ offset: 0, size: 4 });
    expect(ChainEntries).toEqual({ offset: 4, size: 28 });
    expect(ChainEntries.offset + ChainEntries.size).toBe(PROTOCOL_INFO_LAYOUT.ProtocolChain.size);
  });

  test('is deeply frozen', () => {
    expect(Object.isFrozen(PROTOCOL_INFO_LAYOUT)).toBe(true);
    expect(Object.isFrozen(PROTOCOL_INFO_LAYOUT.iSocketType)).toBe(true);
    expect(Object.isFrozen(PROTOCOL_INFO_LAYOUT.ProtocolChain)).toBe(true);
    expect(Object.isFrozen(PROTOCOL_INFO_LAYOUT.ProtocolChain.members)).toBe(true);
    expect(Object.isFrozen(PROTOCOL_INFO_LAYOUT.ProtocolChain.members.ChainLen)).toBe(true);
  });
});

describe('protocolInfoFromBytes', () => {
  test('decodes a Windows AF_INET TCP struct to known values', () => {
    expect(protocolInfoFromBytes(sampleBytes())).toStrictEqual(sampleInfo());
  });

  test('formats the GUID from its mixed-endian bytes', () => {
    expect(protocolInfoFromBytes(sampleBytes()).ProviderId).toBe('{E70F1AA0-AB8B-11CF-8CA3-00805F48A192}');
  });

  test('reads full uint32 and negative int32 values', () => {
    const bytes = sampleBytes();
    bytes.writeUInt32LE(0xffffffff, 108); // dwMessageSize
    bytes.writeInt32LE(-1, 96); // iProtocolMaxOffset
    bytes.writeInt32LE(-0x80000000, 104); // iSecurityScheme
    const info = protocolInfoFromBytes(bytes);
    expect(info.dwMessageSize).toBe(0xffffffff);
    expect(info.iProtocolMaxOffset).toBe(-1);
    expect(info.iSecurityScheme).toBe(-0x80000000);
  });

  test('accepts a plain Uint8Array at an odd byteOffset and leaves it untouched', () => {
    const backing = new Uint8Array(628 + 3);
    backing.set(sampleBytes(), 3);
    const copy = Uint8Array.from(backing);
    expect(protocolInfoFromBytes(backing.subarray(3))).toStrictEqual(sampleInfo());
    expect(backing).toEqual(copy);
  });

  test('ignores garbage after the szProtocol NUL and returns every chain slot as stored', () => {
    const info = protocolInfoFromBytes(sampleWithGarbage({ inUnusedChainSlots: true }));
    expect(info.szProtocol).toBe('MSAFD Tcpip [TCP/IP]');
    expect(info.ProtocolChain).toEqual({ ChainLen: 1, ChainEntries: [0, 0xcccccccc, 0xcccccccc, 0xcccccccc, 0xcccccccc, 0xcccccccc, 0xcccccccc] });
  });

  test('628 zero bytes are structurally valid', () => {
    const info = protocolInfoFromBytes(new Uint8Array(628));
    expect(info).toStrictEqual({
      ...Object.fromEntries(Object.keys(sampleInfo()).map((k) => [k, 0])),
      ProviderId: '{00000000-0000-0000-0000-000000000000}',
      ProtocolChain: { ChainLen: 0, ChainEntries: [0, 0, 0, 0, 0, 0, 0] },
      szProtocol: '',
    });
  });

  test.each([0, 627, 629, 1256])('rejects %i bytes', (length) => {
    expect(() => protocolInfoFromBytes(Buffer.alloc(length))).toThrow(
      tokenError(new RegExp(`^Invalid socket token: 628 bytes expected, got ${length}$`)),
    );
  });

  test.each([-1, 8, 0x7fffffff, -0x80000000])('rejects ChainLen %i', (chainLen) => {
    const bytes = sampleBytes();
    bytes.writeInt32LE(chainLen, 40);
    expect(() => protocolInfoFromBytes(bytes)).toThrow(tokenError(new RegExp(`ChainLen is ${chainLen}, expected 0\\.\\.7`)));
  });

  test.each([0, 1, 2, 7])('accepts ChainLen %i', (chainLen) => {
    const bytes = sampleBytes();
    bytes.writeInt32LE(chainLen, 40);
    expect(protocolInfoFromBytes(bytes).ProtocolChain.ChainLen).toBe(chainLen);
  });

  test('rejects an szProtocol with no NUL in its 256 characters', () => {
    const bytes = sampleBytes();
    bytes.fill(0x41, 116); // 256 x U+4141
    expect(() => protocolInfoFromBytes(bytes)).toThrow(tokenError(/szProtocol is not NUL-terminated within 256 characters/));
  });

  test('accepts 255 characters and a NUL in the last slot', () => {
    const bytes = sampleBytes();
    bytes.write('x'.repeat(255), 116, 'utf16le');
    bytes.writeUInt16LE(0, 626);
    expect(protocolInfoFromBytes(bytes).szProtocol).toBe('x'.repeat(255));
  });

  test.each<[string, number[], string]>([
    ['a lone high surrogate', [0x41, 0xd83d, 0x42], '0xD83D at character 1'],
    ['a lone low surrogate', [0x41, 0xdc00], '0xDC00 at character 1'],
    ['a high surrogate right before the NUL', [0xd800], '0xD800 at character 0'],
    ['two high surrogates', [0xd800, 0xd800, 0xdc00], '0xD800 at character 0'],
  ])('rejects %s in szProtocol', (_label, units, where) => {
    const bytes = sampleBytes();
    bytes.fill(0, 116);
    units.forEach((unit, i) => bytes.writeUInt16LE(unit, 116 + 2 * i));
    const message = new RegExp(`szProtocol is not valid UTF-16 \\(lone surrogate ${where}\\)`);
    expect(() => protocolInfoFromBytes(bytes)).toThrow(tokenError(message));
  });

  test('accepts a surrogate pair', () => {
    const bytes = sampleBytes();
    bytes.fill(0, 116);
    bytes.write('plug 🔌', 116, 'utf16le');
    expect(protocolInfoFromBytes(bytes).szProtocol).toBe('plug 🔌');
  });

  test.each([null, undefined, 'AAAA', 628, [0, 1], new Uint16Array(314), new ArrayBuffer(628)])(
    'rejects a non-Uint8Array argument: %p',
    (value) => {
      expect(() => protocolInfoFromBytes(value as unknown as Uint8Array)).toThrow(argTypeError(/"bytes" argument/));
    },
  );
});

describe('protocolInfoToBytes', () => {
  test('reproduces the hand-built struct byte for byte', () => {
    const bytes = protocolInfoToBytes(sampleInfo());
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.equals(sampleBytes())).toBe(true);
  });

  test('writes the bytes it does not cover as zero', () => {
    const bytes = protocolInfoToBytes(protocolInfoFromBytes(sampleWithGarbage({ inUnusedChainSlots: true })));
    const expected = sampleBytes();
    expected.fill(0xcc, 48, 72); // chain slots are members, so they survive
    expect(bytes.equals(expected)).toBe(true);
  });

  test('accepts a lowercase GUID and writes it as the same bytes', () => {
    const bytes = protocolInfoToBytes({ ...sampleInfo(), ProviderId: TCP_PROVIDER_ID.toLowerCase() });
    expect(bytes.equals(sampleBytes())).toBe(true);
    expect(protocolInfoFromBytes(bytes).ProviderId).toBe(TCP_PROVIDER_ID);
  });

  test('accepts the extremes of every range', () => {
    const info: ProtocolInfo = {
      ...sampleInfo(),
      dwServiceFlags1: 0xffffffff,
      dwProviderReserved: 0,
      iVersion: -0x80000000,
      iProtocol: 0x7fffffff,
      ProviderId: '{FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF}',
      ProtocolChain: { ChainLen: 7, ChainEntries: [0xffffffff, 0, 1, 2, 3, 4, 0xffffffff] },
      szProtocol: 'y'.repeat(255),
    };
    expect(protocolInfoFromBytes(protocolInfoToBytes(info))).toStrictEqual(info);
  });

  test('round-trips a Unicode szProtocol', () => {
    const info = { ...sampleInfo(), szProtocol: 'Protokoll – ü ✓ 🔌' };
    const bytes = protocolInfoToBytes(info);
    expect(bytes.subarray(116, 116 + 2 * info.szProtocol.length).toString('utf16le')).toBe(info.szProtocol);
    expect(protocolInfoFromBytes(bytes)).toStrictEqual(info);
  });

  test.each([null, undefined, 42, 'info', [1, 2, 3]])('rejects a non-object: %p', (value) => {
    expect(() => protocolInfoToBytes(value as unknown as ProtocolInfo)).toThrow(argTypeError(/"info" argument must be a ProtocolInfo object/));
  });

  const withMember = (patch: Record<string, unknown>) => ({ ...sampleInfo(), ...patch }) as unknown as ProtocolInfo;
  const without = (name: keyof ProtocolInfo) => {
    const info: Partial<ProtocolInfo> = sampleInfo();
    delete info[name];
    return info as ProtocolInfo;
  };
  const withChain = (patch: Record<string, unknown>) => withMember({ ProtocolChain: { ...sampleInfo().ProtocolChain, ...patch } });

  test.each<[string, ProtocolInfo, string]>([
    ['missing iSocketType', without('iSocketType'), 'info.iSocketType'],
    ['missing dwServiceFlags1', without('dwServiceFlags1'), 'info.dwServiceFlags1'],
    ['string dwCatalogEntryId', withMember({ dwCatalogEntryId: '1001' }), 'info.dwCatalogEntryId'],
    ['bigint iProtocol', withMember({ iProtocol: 6n }), 'info.iProtocol'],
    ['null dwProviderReserved', withMember({ dwProviderReserved: null }), 'info.dwProviderReserved'],
    ['missing ProviderId', without('ProviderId'), 'info.ProviderId'],
    ['numeric ProviderId', withMember({ ProviderId: 1 }), 'info.ProviderId'],
    ['missing ProtocolChain', without('ProtocolChain'), 'info.ProtocolChain'],
    ['string ChainLen', withChain({ ChainLen: '1' }), 'info.ProtocolChain.ChainLen'],
    ['ChainEntries not an array', withChain({ ChainEntries: 'none' }), 'info.ProtocolChain.ChainEntries'],
    ['ChainEntries with a string', withChain({ ChainEntries: [0, 0, '0', 0, 0, 0, 0] }), 'info.ProtocolChain.ChainEntries[2]'],
    ['ChainEntries with a hole', withChain({ ChainEntries: [0, , 0, 0, 0, 0, 0] }), 'info.ProtocolChain.ChainEntries[1]'],
    ['missing szProtocol', without('szProtocol'), 'info.szProtocol'],
    ['Buffer szProtocol', withMember({ szProtocol: Buffer.from('x') }), 'info.szProtocol'],
  ])('type error for %s', (_label, info, member) => {
    expect(() => protocolInfoToBytes(info)).toThrow(argTypeError(new RegExp(`^The "${literal(member)}" argument must be`)));
  });

  test.each<[string, ProtocolInfo, string, RegExp]>([
    ['negative dw', withMember({ dwServiceFlags1: -1 }), 'info.dwServiceFlags1', /from 0 to 4294967295/],
    ['dw above 32 bits', withMember({ dwMessageSize: 2 ** 32 }), 'info.dwMessageSize', /from 0 to 4294967295/],
    ['fractional dw', withMember({ dwProviderFlags: 1.5 }), 'info.dwProviderFlags', /integer/],
    ['NaN dw', withMember({ dwCatalogEntryId: NaN }), 'info.dwCatalogEntryId', /integer/],
    ['i above int32', withMember({ iSocketType: 2 ** 31 }), 'info.iSocketType', /from -2147483648 to 2147483647/],
    ['i below int32', withMember({ iVersion: -(2 ** 31) - 1 }), 'info.iVersion', /from -2147483648 to 2147483647/],
    ['infinite i', withMember({ iProtocol: Infinity }), 'info.iProtocol', /integer/],
    ['GUID without braces', withMember({ ProviderId: TCP_PROVIDER_ID.slice(1, -1) }), 'info.ProviderId', /a GUID like/],
    ['GUID with a non-hex digit', withMember({ ProviderId: TCP_PROVIDER_ID.replace('E', 'G') }), 'info.ProviderId', /a GUID like/],
    ['GUID one digit short', withMember({ ProviderId: TCP_PROVIDER_ID.replace('A1', 'A') }), 'info.ProviderId', /a GUID like/],
    ['ChainLen 8', withChain({ ChainLen: 8 }), 'info.ProtocolChain.ChainLen', /from 0 to 7/],
    ['ChainLen -1', withChain({ ChainLen: -1 }), 'info.ProtocolChain.ChainLen', /from 0 to 7/],
    ['6 ChainEntries', withChain({ ChainEntries: [0, 0, 0, 0, 0, 0] }), 'info.ProtocolChain.ChainEntries', /exactly 7 entries, not 6/],
    ['8 ChainEntries', withChain({ ChainEntries: Array(8).fill(0) }), 'info.ProtocolChain.ChainEntries', /exactly 7 entries, not 8/],
    ['negative chain entry', withChain({ ChainEntries: [0, 0, 0, 0, 0, 0, -1] }), 'info.ProtocolChain.ChainEntries[6]', /from 0 to 4294967295/],
    ['256-character szProtocol', withMember({ szProtocol: 'z'.repeat(256) }), 'info.szProtocol', /at most 255 UTF-16 code units, not 256/],
    ['NUL in szProtocol', withMember({ szProtocol: 'TCP\0IP' }), 'info.szProtocol', /without NUL/],
    ['lone surrogate in szProtocol', withMember({ szProtocol: 'a\ud800b' }), 'info.szProtocol', /no lone surrogates/],
  ])('value error for %s', (_label, info, member, allowed) => {
    expect(() => protocolInfoToBytes(info)).toThrow(argValueError(new RegExp(`^The "${literal(member)}" argument must be`)));
    expect(() => protocolInfoToBytes(info)).toThrow(allowed);
  });
});

function literal(text: string): string {
  return text.replace(/[.[\]]/g, '\\$&');
}
