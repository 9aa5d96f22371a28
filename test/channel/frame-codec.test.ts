import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_SIZE } from '../../src/channel/frame-codec';

const frameOf = (body: string) => {
  const b = Buffer.from(body, 'utf8');
  const f = Buffer.alloc(4 + b.length);
  f.writeUInt32BE(b.length, 0);
  b.copy(f, 4);
  return f;
};

describe('frame codec', () => {
  it('writes a 4-byte big-endian length, then UTF-8 JSON', () => {
    const frame = encodeFrame({ type: 'ack', id: 7 });
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(frame.subarray(4).toString()).toBe('{"type":"ack","id":7}');
  });

  it('reassembles frames split at every byte and several frames in one chunk', () => {
    const stream = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ b: 'ü✓' }), encodeFrame({ c: [1, 2] })]);
    const decoder = new FrameDecoder();
    const got: unknown[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(got).toEqual([{ a: 1 }, { b: 'ü✓' }, { c: [1, 2] }]);
    expect(decoder.pendingBytes).toBe(0);
    expect(new FrameDecoder().push(stream)).toEqual(got);
  });

  it.each([
    ['an empty body', frameOf(''), 'ERR_MALFORMED_FRAME', /empty body/],
    ['a body that is not JSON', frameOf('{nope'), 'ERR_MALFORMED_FRAME', /not UTF-8 JSON/],
    ['invalid UTF-8', Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0x22, 0xff, 0x22])]), 'ERR_MALFORMED_FRAME', /not UTF-8 JSON/],
    ['a JSON array', frameOf('[1,2]'), 'ERR_MALFORMED_FRAME', /not a JSON object/],
    ['JSON null', frameOf('null'), 'ERR_MALFORMED_FRAME', /not a JSON object/],
    ['a length over the limit', Buffer.from([0xff, 0xff, 0xff, 0xff]), 'ERR_FRAME_TOO_LARGE', /exceeds the limit of 1048576/],
  ])('rejects %s with a coded FrameError, and stays failed', (_name, bytes, code, message) => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(bytes)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    expect(() => decoder.push(encodeFrame({ ok: true }))).toThrow(FrameError);
  });

  it('leaves no trace of a malformed body in the next connection\'s frames (one UTF-8 decoder serves every frame)', () => {
    const truncated = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0x22, 0xe2, 0x82])]);
    expect(() => new FrameDecoder().push(truncated)).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_FRAME' }));
    expect(new FrameDecoder().push(encodeFrame({ b: '✓ü' }))).toEqual([{ b: '✓ü' }]);
  });

  it('refuses an oversized frame as soon as its header arrives, before buffering the body', () => {
    const decoder = new FrameDecoder(4096);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4097, 0);
    expect(() => decoder.push(header)).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
  });

  it('refuses to encode an oversized message, counting bytes, not characters', () => {
    expect(() => encodeFrame({ x: 'y'.repeat(MAX_FRAME_SIZE) })).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
    // 8 + 3 * 60 = 188 bytes of JSON in 68 characters.
    const wide = { x: '✓'.repeat(60) };
    expect(encodeFrame(wide, 188).readUInt32BE(0)).toBe(188);
    expect(() => encodeFrame(wide, 187)).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
  });
});
