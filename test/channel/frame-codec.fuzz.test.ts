/**
 * 100,000 mutated frames through the parser and the message checks a receiver applies: every
 * failure must be a coded FrameError, never a crash or another exception.
 */
import { encodeFrame, FrameDecoder, FrameError } from '../../src/channel/frame-codec';
import { checkReceiverReply, checkSenderHello, checkSocketMessage } from '../../src/channel/messages';

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const SEEDS = [
  encodeFrame({ type: 'hello', role: 'sender', version: 1, pid: 1234, proof: 'ab'.repeat(32) }),
  encodeFrame({ type: 'socket', id: 1, kind: 'socket', token: 'A'.repeat(840), head: 'R0VUIC8gSFRUUC8xLjENCg==', meta: { route: '/x', n: [1, 2] } }),
  encodeFrame({ type: 'ack', id: 99 }),
  encodeFrame({ type: 'nack', id: 2, code: 'WSAEINVAL', message: 'bad' }),
];
const CODES = new Set(['ERR_MALFORMED_FRAME', 'ERR_FRAME_TOO_LARGE', 'ERR_UNEXPECTED_MESSAGE', 'ERR_UNSUPPORTED_VERSION']);

function mutate(frame: Buffer, rnd: () => number): Buffer {
  const out = Buffer.from(frame);
  switch (Math.floor(rnd() * 6)) {
    case 0: // flip a few bytes anywhere
      for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
      return out;
    case 1: // bad length field
      out.writeUInt32BE(Math.floor(rnd() * 0xffffffff), 0);
      return out;
    case 2: // truncated
      return out.subarray(0, Math.floor(rnd() * out.length));
    case 3: // body replaced by random bytes of the same length
      for (let i = 4; i < out.length; i++) out[i] = Math.floor(rnd() * 256);
      return out;
    case 4: // JSON with fields of the wrong type
      return encodeFrame({ type: ['hello', 'socket', 'ack', 'nack', 7][Math.floor(rnd() * 5)], id: rnd() < 0.5 ? -1 : 'x', pid: {}, version: rnd() * 3, token: null, head: '!!', kind: 1 });
    default: // one valid frame followed by garbage
      return Buffer.concat([out, Buffer.from([Math.floor(rnd() * 256), 0, 0])]);
  }
}

describe('frame parser fuzz', () => {
  it('turns 100,000 mutated frames into messages or coded FrameErrors only', () => {
    const rnd = prng(20261125);
    const seen = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const bytes = mutate(SEEDS[i % SEEDS.length], rnd);
      const decoder = new FrameDecoder(64 * 1024);
      let outcome = 'incomplete';
      try {
        const cut = Math.floor(rnd() * (bytes.length + 1));
        const messages = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
        for (const msg of messages) {
          // What the receiver (hello, then socket) and the sender (replies) would apply.
          try { checkSenderHello(msg, [1, 2]); } catch (e) { if (!(e instanceof FrameError)) throw e; }
          try { checkSocketMessage(msg, 2); } catch (e) { if (!(e instanceof FrameError)) throw e; }
          try { checkReceiverReply(msg, 2); } catch (e) { if (!(e instanceof FrameError)) throw e; }
        }
        outcome = messages.length ? 'parsed' : 'incomplete';
      } catch (err) {
        expect(err).toBeInstanceOf(FrameError);
        expect(CODES).toContain((err as FrameError).code);
        outcome = (err as FrameError).code;
      }
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    // The mutations must really reach every branch, or the test proves little.
    expect(seen.get('ERR_MALFORMED_FRAME')).toBeGreaterThan(1000);
    expect(seen.get('ERR_FRAME_TOO_LARGE')).toBeGreaterThan(1000);
    expect(seen.get('parsed')).toBeGreaterThan(1000);
  });
});
