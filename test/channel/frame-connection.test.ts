/** FrameConnection: frames in and out, and which frame a received descriptor belongs to. */
import { encodeFrame } from '../../src/channel/frame-codec';
import { SocketHandoffError } from '../../src/errors';
import { FrameConnection, type FrameFacts } from '../../src/channel/frame-connection';
import type { ReceivedDescriptor } from '../../src/channel/transport';
import { FakeLink } from '../support/fake-link';

function descriptor(fd: number): ReceivedDescriptor & { closed: boolean } {
  return {
    fd,
    closed: false,
    take() {
      return fd;
    },
    close() {
      this.closed = true;
    },
  };
}

function setup() {
  const link = new FakeLink();
  const conn = new FrameConnection(link, 1024 * 1024);
  const messages: { type: unknown; fds: number[]; lost?: true }[] = [];
  const errors: string[] = [];
  conn.on('message', (m: Record<string, unknown>, ds: ReceivedDescriptor[], facts: FrameFacts) =>
    messages.push({ type: m.type, fds: ds.map((d) => d.fd), ...(facts.descriptorsLost ? { lost: true as const } : {}) }),
  );
  conn.on('protocolError', (err: { code: string }) => errors.push(err.code));
  return { link, conn, messages, errors };
}

const frame = (type: string) => encodeFrame({ type, id: 1 });

describe('FrameConnection', () => {
  it('marks the socket frame whose descriptors this process could not take in, and keeps the connection', () => {
    const { link, messages, errors } = setup();
    // Three reads: a frame whose descriptor was lost (MSG_CTRUNC with room to spare), then a whole
    // commit and a socket frame whose descriptor arrived.
    link.emit('data', frame('socket'), [], true);
    link.emit('data', Buffer.concat([frame('commit'), frame('socket')]), [descriptor(9)], false);
    expect(messages).toEqual([
      { type: 'socket', fds: [], lost: true },
      { type: 'commit', fds: [] },
      { type: 'socket', fds: [9] },
    ]);
    expect(errors).toEqual([]);
    expect(link.destroyed).toBe(false);
  });

  it('binds a lost-descriptor mark to the socket frame that starts in its read, not to an earlier whole frame', () => {
    const { link, messages } = setup();
    link.emit('data', Buffer.concat([frame('commit'), frame('socket')]), [], true);
    expect(messages).toEqual([
      { type: 'commit', fds: [] },
      { type: 'socket', fds: [], lost: true },
    ]);
  });

  it('takes a lost-descriptor mark in bytes where no socket frame starts as a protocol violation', () => {
    const { link, errors } = setup();
    link.emit('data', frame('commit'), [], true);
    link.emit('data', frame('commit'));
    expect(errors).toEqual(['ERR_MALFORMED_FRAME']);
  });

  it('gives a descriptor to the socket frame that starts in the bytes it came with', () => {
    const { link, messages, errors } = setup();
    link.emit('data', Buffer.concat([frame('commit'), frame('socket')]), [descriptor(7)]);
    expect(messages).toEqual([
      { type: 'commit', fds: [] },
      { type: 'socket', fds: [7] },
    ]);
    expect(errors).toEqual([]);
  });

  it('keeps a descriptor for a socket frame whose bytes are still arriving', () => {
    const { link, messages } = setup();
    const socketFrame = frame('socket');
    link.emit('data', socketFrame.subarray(0, 3), [descriptor(9)]);
    link.emit('data', socketFrame.subarray(3));
    expect(messages).toEqual([{ type: 'socket', fds: [9] }]);
  });

  it('refuses and closes a descriptor that came with bytes no socket frame starts in', () => {
    const { link, messages, errors } = setup();
    const stray = descriptor(5);
    const socketFrame = frame('socket');
    // The descriptor rides on the middle of the socket frame, not on its first byte.
    link.emit('data', socketFrame.subarray(0, 6));
    link.emit('data', socketFrame.subarray(6), [stray]);
    link.emit('data', frame('commit'));
    expect(messages).toEqual([{ type: 'socket', fds: [] }]);
    expect(errors).toEqual(['ERR_MALFORMED_FRAME']);
    expect(stray.closed).toBe(true);
  });

  it('refuses a descriptor that came with a frame of another type', () => {
    const { link, errors } = setup();
    const d = descriptor(6);
    link.emit('data', frame('hello'), [d]);
    link.emit('data', frame('commit'));
    expect(errors).toEqual(['ERR_MALFORMED_FRAME']);
    expect(d.closed).toBe(true);
  });

  it('closes descriptors still waiting for their frame when the link closes, and any after a protocol error', () => {
    const { link, errors } = setup();
    const waiting = descriptor(3);
    link.emit('data', frame('socket').subarray(0, 2), [waiting]);
    link.destroy();
    expect(waiting.closed).toBe(true);

    const second = setup();
    second.link.emit('data', Buffer.from([0, 0, 0, 0]));
    const late = descriptor(4);
    second.link.emit('data', frame('socket'), [late]);
    expect(second.errors).toEqual(['ERR_MALFORMED_FRAME']);
    expect(late.closed).toBe(true);
    expect(errors).toEqual([]);
  });

  it('treats a coded error from the link as the peer breaking the protocol, other errors as transport errors', () => {
    const { link, errors, conn } = setup();
    const transport: Error[] = [];
    conn.on('transportError', (err: Error) => transport.push(err));
    link.emit('error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    link.emit('error', new SocketHandoffError('ERR_DESCRIPTORS_TRUNCATED', 'too many'));
    expect(transport.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['ECONNRESET']);
    expect(errors).toEqual(['ERR_DESCRIPTORS_TRUNCATED']);
  });

  it('sends the replies to frames read together as one write where the link queues writes (cork), even if a handler throws', () => {
    const link = Object.assign(new FakeLink(), {
      log: [] as string[],
      corked: 0,
      cork() {
        this.corked++;
        this.log.push('cork');
      },
      uncork() {
        this.corked--;
        this.log.push('uncork');
      },
    });
    link.write = function (this: typeof link, data: Buffer) {
      this.log.push(this.corked > 0 ? 'write (corked)' : 'write');
      this.written.push(data);
      return true;
    };
    const conn = new FrameConnection(link, 1024 * 1024);
    conn.on('message', (m: { type: string; id: number }) => {
      conn.send({ type: 'ack', id: m.id });
      if (m.id === 13) throw new Error('handler failed');
    });
    const frames = (...ids: number[]) => Buffer.concat(ids.map((id) => encodeFrame({ type: 'socket', id })));
    link.emit('data', frames(1, 2, 3));
    expect(link.log).toEqual(['cork', 'write (corked)', 'write (corked)', 'write (corked)', 'uncork']);
    link.log.length = 0;
    link.emit('data', frames(4)); // one frame: nothing to batch
    expect(link.log).toEqual(['write']);
    link.log.length = 0;
    expect(() => link.emit('data', frames(12, 13))).toThrow('handler failed');
    expect(link.log).toEqual(['cork', 'write (corked)', 'write (corked)', 'uncork']);
    expect(link.written).toHaveLength(6);
  });
});
