/** The control channel's message queue: no message lost between two next() calls, close and timeouts as answers. */
import { EventEmitter } from 'node:events';
import { FrameConnection } from '../../src/channel/frame-connection';
import { encodeFrame } from '../../src/channel/frame-codec';
import { CONTROL_FRAME_SIZE, controlNames, MessageQueue } from '../../src/upgrader/control';
import { itOnLinuxOrWindows } from '../support/platform';

/** A link that only carries what the test pushes into it. */
function fakeLink() {
  const link = Object.assign(new EventEmitter(), {
    destroyed: false,
    writable: true,
    writableLength: 0,
    closed: false,
    written: [] as Buffer[],
    write(data: Buffer) {
      link.written.push(data);
      return true;
    },
    end() {
      link.destroy();
    },
    destroy() {
      if (link.destroyed) return;
      link.destroyed = true;
      link.closed = true;
      link.emit('close');
    },
  });
  return link;
}

describe('control channel', () => {
  it('queues every message of a chunk, and answers undefined once closed', async () => {
    const link = fakeLink();
    const queue = new MessageQueue(new FrameConnection(link, CONTROL_FRAME_SIZE));
    link.emit('data', Buffer.concat([encodeFrame({ type: 'sent', keys: ['web'] }, CONTROL_FRAME_SIZE), encodeFrame({ type: 'retired' }, CONTROL_FRAME_SIZE)]));
    expect(await queue.next(1000, 'x')).toEqual({ type: 'sent', keys: ['web'] });
    expect(await queue.next(1000, 'x')).toEqual({ type: 'retired' });
    const pending = queue.next(0, 'x'); // no timer: waits as long as the connection lives
    link.destroy();
    expect(await pending).toBeUndefined();
    expect(queue.closed).toBe(true);
    expect(await queue.next(1000, 'x')).toBeUndefined();
    expect(queue.send({ type: 'ready' })).toBe(false);
  });

  it('times out with ERR_HANDSHAKE_TIMEOUT, and a broken frame is an error, not a message', async () => {
    const link = fakeLink();
    const queue = new MessageQueue(new FrameConnection(link, CONTROL_FRAME_SIZE));
    await expect(queue.next(20, 'hello')).rejects.toEqual(expect.objectContaining({ code: 'ERR_HANDSHAKE_TIMEOUT', message: 'no hello within 20 ms' }));
    link.emit('data', Buffer.from([0, 0, 0, 0]));
    await expect(queue.next(1000, 'x')).rejects.toEqual(expect.objectContaining({ code: 'ERR_MALFORMED_FRAME' }));
    expect(link.destroyed).toBe(true);
  });

  itOnLinuxOrWindows('derives the name, the slot and the inbox from the name, and refuses names the transport cannot carry', 'the names are those of the channel transport', () => {
    const names = controlNames('shop');
    expect([names.control, names.slot, names.inbox(42)]).toEqual(['shop.upgrader', 'shop.upgrader-next', 'shop.upgrader-42']);
    expect(() => controlNames('x/y')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
