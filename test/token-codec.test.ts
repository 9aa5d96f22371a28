import { InvalidTokenError } from '../src/errors';
import { ProtocolInfo, protocolInfoToBytes } from '../src/protocol-info';
import { decodeProtocolInfo, encodeProtocolInfo, tokenToBytes } from '../src/token-codec';
import { coded, sampleBytes, sampleInfo, sampleWithGarbage, tokenError } from './support/protocol-info-sample';

const SAMPLE_TOKEN = sampleBytes().toString('base64');
const SAMPLE_INFO: ProtocolInfo = Object.freeze(sampleInfo());

/** Plain base64 of raw bytes, without going through the codec under test. */
const tokenOf = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('decodeProtocolInfo', () => {
  test('decodes a Windows AF_INET TCP token to known values', () => {
    expect(decodeProtocolInfo(SAMPLE_TOKEN)).toStrictEqual(SAMPLE_INFO);
  });

  test('the token is 840 characters of standard base64 ending in "=="', () => {
    expect(SAMPLE_TOKEN).toHaveLength(840);
    expect(SAMPLE_TOKEN).toMatch(/^[A-Za-z0-9+/]{838}==$/);
  });

  test('tolerates the surrounding whitespace a pipe or a file adds', () => {
    for (const token of [`${SAMPLE_TOKEN}\n`, `${SAMPLE_TOKEN}\r\n`, `  \t${SAMPLE_TOKEN} \n`]) {
      expect(decodeProtocolInfo(token)).toStrictEqual(SAMPLE_INFO);
    }
  });

  test('accepts garbage after the szProtocol NUL', () => {
    expect(decodeProtocolInfo(tokenOf(sampleWithGarbage()))).toStrictEqual(SAMPLE_INFO);
  });

  test('a token of 628 zero bytes decodes (the OS, not the codec, rejects it)', () => {
    const info = decodeProtocolInfo(tokenOf(new Uint8Array(628)));
    expect(info).toStrictEqual({
      ...Object.fromEntries(Object.keys(SAMPLE_INFO).map((k) => [k, 0])),
      ProviderId: '{00000000-0000-0000-0000-000000000000}',
      ProtocolChain: { ChainLen: 0, ChainEntries: [0, 0, 0, 0, 0, 0, 0] },
      szProtocol: '',
    });
  });

  test('round-trips a Unicode szProtocol', () => {
    const info = { ...SAMPLE_INFO, szProtocol: 'Protokoll – ü ✓' };
    const token = encodeProtocolInfo(info);
    expect(decodeProtocolInfo(token)).toStrictEqual(info);
    expect(tokenToBytes(token).subarray(116, 116 + 2 * 16)).toEqual(Buffer.from('Protokoll – ü ✓\0', 'utf16le'));
  });
});

describe('token rejection', () => {
  const withBytes = (edit: (bytes: Buffer) => void) => {
    const bytes = sampleBytes();
    edit(bytes);
    return tokenOf(bytes);
  };
  const lastGroup = SAMPLE_TOKEN.slice(-4);

  test.each<[string, unknown, RegExp]>([
    ['a number', 42, /^Invalid socket token: expected a base64 string, got number 42$/],
    ['null', null, /expected a base64 string, got null$/],
    ['undefined', undefined, /expected a base64 string, got undefined$/],
    ['a Buffer', sampleBytes(), /expected a base64 string, got an instance of Buffer$/],
    ['a String object', new String(SAMPLE_TOKEN), /expected a base64 string, got an instance of String$/],
    ['an empty string', '', /^Invalid socket token: the token is empty$/],
    ['whitespace only', ' \t\r\n ', /the token is only whitespace$/],
    ['garbage', 'not base64!!', /^Invalid socket token: not valid base64: whitespace inside the token at index 3$/],
    ['garbage without spaces', 'notbase64!!', /not valid base64: "!" at index 9 is not in the standard base64 alphabet$/],
    ['an exclamation mark', 'AAAA!AAA', /not valid base64: "!" at index 4 is not in the standard base64 alphabet$/],
    ['base64url', `-${SAMPLE_TOKEN.slice(1)}`, /"-" at index 0 .* \(base64url is not accepted\)$/],
    ['a non-ASCII character', `é${SAMPLE_TOKEN}`, /"é" at index 0 is not in the standard base64 alphabet/],
    ['a non-breaking space around it', `\u00a0${SAMPLE_TOKEN}`, /"\u00a0" at index 0 is not in the standard base64 alphabet/],
    ['inner whitespace', `${SAMPLE_TOKEN.slice(0, 76)}\n${SAMPLE_TOKEN.slice(76)}`, /not valid base64: whitespace inside the token at index 76$/],
    ['inner space after trimming', ` ${SAMPLE_TOKEN.slice(0, 10)} ${SAMPLE_TOKEN.slice(10)}`, /whitespace inside the token at index 11$/],
    ['missing padding', SAMPLE_TOKEN.slice(0, -2), /not valid base64: length 838 is not a multiple of 4/],
    ['one "=" short', SAMPLE_TOKEN.slice(0, -1), /length 839 is not a multiple of 4/],
    ['extra padding', `${SAMPLE_TOKEN}==`, /not valid base64: 4 "=" padding characters, at most 2 allowed$/],
    ['padding in the middle', `${SAMPLE_TOKEN}AAAA`, /not valid base64: "=" at index 838; padding may only end the token$/],
    ['a non-canonical last group', SAMPLE_TOKEN.slice(0, -4) + lastGroup[0] + 'B==', /not valid base64: non-canonical/],
    ['padding only', '====', /4 "=" padding characters/],
    ['627 bytes', tokenOf(sampleBytes().subarray(0, 627)), /^Invalid socket token: 628 bytes expected, got 627$/],
    ['629 bytes', tokenOf(Buffer.concat([sampleBytes(), Buffer.of(0)])), /^Invalid socket token: 628 bytes expected, got 629$/],
    ['3 bytes', 'AAAA', /628 bytes expected, got 3$/],
    ['two tokens', SAMPLE_TOKEN.replace(/==$/, 'AA') + SAMPLE_TOKEN, /628 bytes expected, got 1258$/],
    ['ChainLen -1', withBytes((b) => b.writeInt32LE(-1, 40)), /ProtocolChain\.ChainLen is -1, expected 0\.\.7$/],
    ['ChainLen 8', withBytes((b) => b.writeInt32LE(8, 40)), /ProtocolChain\.ChainLen is 8, expected 0\.\.7$/],
    ['an unterminated szProtocol', withBytes((b) => b.fill(0x20, 116)), /szProtocol is not NUL-terminated within 256 characters$/],
    ['a lone surrogate in szProtocol', withBytes((b) => b.writeUInt16LE(0xd800, 116 + 2 * 5)), /szProtocol is not valid UTF-16 \(lone surrogate 0xD800 at character 5\)$/],
  ])('rejects %s', (_label, token, message) => {
    expect(() => decodeProtocolInfo(token as string)).toThrow(tokenError(message));
  });

  test('throws InvalidTokenError instances', () => {
    expect(() => decodeProtocolInfo('')).toThrow(InvalidTokenError);
    expect(() => tokenToBytes(1)).toThrow(InvalidTokenError);
  });

  test('a zero-byte decode is reported as a length problem, not as base64', () => {
    // '' is "empty"; the shortest well-formed base64 still fails on length.
    expect(() => tokenToBytes('AA==')).toThrow(tokenError(/628 bytes expected, got 1$/));
  });
});

describe('tokenToBytes', () => {
  test('returns the 628 bytes as a Buffer', () => {
    const bytes = tokenToBytes(SAMPLE_TOKEN);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes.equals(sampleBytes())).toBe(true);
  });

  test('does not check the struct content', () => {
    const bytes = sampleBytes();
    bytes.writeInt32LE(99, 40);
    expect(tokenToBytes(tokenOf(bytes)).equals(bytes)).toBe(true);
  });
});

describe('encodeProtocolInfo', () => {
  test('encodes the known-answer object to the hand-built token', () => {
    expect(encodeProtocolInfo(SAMPLE_INFO)).toBe(SAMPLE_TOKEN);
  });

  test('encode(decode(token)) === token', () => {
    expect(encodeProtocolInfo(decodeProtocolInfo(SAMPLE_TOKEN))).toBe(SAMPLE_TOKEN);
  });

  test('encodes raw bytes unchanged, garbage after the NUL included', () => {
    const garbage = sampleWithGarbage();
    const token = tokenOf(garbage);
    expect(encodeProtocolInfo(garbage)).toBe(token);
    expect(encodeProtocolInfo(tokenToBytes(token))).toBe(token);
    // Through the object, the garbage is (deliberately) normalised to zeros.
    expect(encodeProtocolInfo(decodeProtocolInfo(token))).toBe(SAMPLE_TOKEN);
  });

  test('accepts a plain Uint8Array view at an offset', () => {
    const backing = new Uint8Array(700);
    backing.set(sampleBytes(), 5);
    expect(encodeProtocolInfo(backing.subarray(5, 5 + 628))).toBe(SAMPLE_TOKEN);
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a number', 628],
    ['a string', SAMPLE_TOKEN],
    ['an array', [...sampleBytes()]],
    ['an ArrayBuffer', new ArrayBuffer(628)],
    ['a Uint16Array', new Uint16Array(314)],
    ['a DataView', new DataView(new ArrayBuffer(628))],
  ])('rejects %s as ERR_INVALID_ARG_TYPE', (_label, value) => {
    expect(() => encodeProtocolInfo(value as ProtocolInfo)).toThrow(
      coded('ERR_INVALID_ARG_TYPE', /^The "infoOrBytes" argument must be a ProtocolInfo object, a Buffer or a Uint8Array\. Received /),
    );
  });

  test.each([0, 627, 629])('rejects %i raw bytes as ERR_INVALID_ARG_VALUE', (length) => {
    expect(() => encodeProtocolInfo(Buffer.alloc(length))).toThrow(
      coded('ERR_INVALID_ARG_VALUE', new RegExp(`"infoOrBytes" argument must be exactly 628 bytes .*, not ${length}\\.`)),
    );
  });

  test('rejects raw bytes with bad content as ERR_INVALID_TOKEN', () => {
    const bytes = sampleBytes();
    bytes.writeInt32LE(8, 40);
    expect(() => encodeProtocolInfo(bytes)).toThrow(tokenError(/ChainLen is 8/));
    bytes.writeInt32LE(1, 40);
    bytes.fill(0x41, 116);
    expect(() => encodeProtocolInfo(bytes)).toThrow(tokenError(/not NUL-terminated/));
  });

  test.each<[string, Record<string, unknown>, string, RegExp]>([
    ['missing iSocketType', { iSocketType: undefined }, 'ERR_INVALID_ARG_TYPE', /"info\.iSocketType" argument must be of type number\. Received undefined/],
    ['string iProtocol', { iProtocol: '6' }, 'ERR_INVALID_ARG_TYPE', /"info\.iProtocol" argument must be of type number\. Received string "6"/],
    ['negative dwProviderFlags', { dwProviderFlags: -8 }, 'ERR_INVALID_ARG_VALUE', /"info\.dwProviderFlags" argument must be an integer from 0 to 4294967295\. Received number -8/],
    ['int32 overflow', { iAddressFamily: 2 ** 31 }, 'ERR_INVALID_ARG_VALUE', /"info\.iAddressFamily" argument must be an integer from -2147483648 to 2147483647/],
    ['bad GUID', { ProviderId: 'E70F1AA0-AB8B-11CF-8CA3-00805F48A192' }, 'ERR_INVALID_ARG_VALUE', /"info\.ProviderId" argument must be a GUID/],
    ['ChainLen 8', { ProtocolChain: { ChainLen: 8, ChainEntries: [0, 0, 0, 0, 0, 0, 0] } }, 'ERR_INVALID_ARG_VALUE', /"info\.ProtocolChain\.ChainLen" argument must be an integer from 0 to 7/],
    ['long szProtocol', { szProtocol: 'x'.repeat(300) }, 'ERR_INVALID_ARG_VALUE', /"info\.szProtocol" argument must be a string of at most 255 UTF-16 code units, not 300/],
    ['empty object', { ...Object.fromEntries(Object.keys(SAMPLE_INFO).map((k) => [k, undefined])) }, 'ERR_INVALID_ARG_TYPE', /"info\.dwServiceFlags1"/],
  ])('validates the object: %s', (_label, patch, code, message) => {
    expect(() => encodeProtocolInfo({ ...SAMPLE_INFO, ...patch } as ProtocolInfo)).toThrow(coded(code, message));
  });
});

/** mulberry32: tiny seeded PRNG so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('mutation robustness', () => {
  const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n -_é\0\ud800🔌';

  function mutate(random: () => number): string {
    const int = (n: number) => Math.floor(random() * n);
    const char = () => [...CHARS][int([...CHARS].length)];
    const token = SAMPLE_TOKEN.split('');
    const bytes = sampleBytes();
    const times = 1 + int(4);
    switch (int(9)) {
      case 0: // replace characters of the token
        for (let i = 0; i < times; i++) token[int(token.length)] = char();
        return token.join('');
      case 1: // truncate the token
        return SAMPLE_TOKEN.slice(0, int(SAMPLE_TOKEN.length));
      case 2: // insert characters
        for (let i = 0; i < times; i++) token.splice(int(token.length + 1), 0, char());
        return token.join('');
      case 3: // delete characters
        for (let i = 0; i < times; i++) token.splice(int(token.length), 1);
        return token.join('');
      case 4: // flip bytes anywhere, then encode properly
        for (let i = 0; i < times; i++) bytes[int(628)] = int(256);
        return tokenOf(bytes);
      case 5: // hit ChainLen and szProtocol (surrogates, the terminator), where the struct checks live
        for (let i = 0; i < times; i++) {
          if (random() < 0.5) bytes[40 + int(4)] = int(256);
          else bytes.writeUInt16LE(random() < 0.5 ? 0xd800 + int(0x800) : int(0x10000), 116 + 2 * int(24));
        }
        if (random() < 0.2) bytes.fill(1 + int(255), 116 + 2 * int(24));
        return tokenOf(bytes);
      case 6: // truncate or extend the bytes
        return tokenOf(random() < 0.5 ? bytes.subarray(0, int(628)) : Buffer.concat([bytes, Buffer.alloc(1 + int(8))]));
      case 7: // the last data character, whose low bits must stay zero
        token[837] = char();
        return token.join('');
      default: // nothing left but a little whitespace
        return ' \n\t'.slice(0, int(3));
    }
  }

  const REASONS = [
    /the token is empty$/,
    /the token is only whitespace$/,
    /not valid base64: .* is not in the standard base64 alphabet/,
    /not valid base64: whitespace inside the token/,
    /not valid base64: length \d+ is not a multiple of 4/,
    /not valid base64: "=" at index/,
    /not valid base64: \d+ "=" padding characters, at most 2 allowed$/,
    /not valid base64: non-canonical/,
    /628 bytes expected, got \d+$/,
    /ChainLen is -?\d+, expected 0\.\.7$/,
    /szProtocol is not NUL-terminated/,
    /szProtocol is not valid UTF-16/,
  ];

  test('20,000 mutations of the sample token either decode or throw ERR_INVALID_TOKEN', () => {
    const random = prng(0x5eed);
    const reasons = new Map<string, number>();
    let decoded = 0;
    for (let round = 0; round < 20_000; round++) {
      const token = mutate(random);
      let info: ProtocolInfo;
      try {
        info = decodeProtocolInfo(token);
      } catch (error) {
        if (!(error instanceof InvalidTokenError) || error.code !== 'ERR_INVALID_TOKEN') {
          throw new Error(`round ${round}: unexpected ${String(error)} for ${JSON.stringify(token)}`);
        }
        const reason = REASONS.find((pattern) => pattern.test(error.message));
        if (!reason) throw new Error(`round ${round}: unclassified message ${error.message}`);
        reasons.set(reason.source, (reasons.get(reason.source) ?? 0) + 1);
        continue;
      }
      decoded++;
      // Anything that decodes must be a valid object again, and stable through another round.
      const again = decodeProtocolInfo(encodeProtocolInfo(info));
      if (JSON.stringify(again) !== JSON.stringify(info)) throw new Error(`round ${round}: unstable round-trip`);
      expect(protocolInfoToBytes(info)).toHaveLength(628);
    }
    // The mutations must reach every layer, or this test proves little.
    expect(decoded).toBeGreaterThan(1000);
    for (const reason of REASONS) expect(reasons.get(reason.source)).toBeGreaterThan(10);
  });
});
