/** A ChannelLink in memory for the channel's unit tests: writes are recorded, nothing is sent. */
import { EventEmitter } from 'node:events';

export class FakeLink extends EventEmitter {
  destroyed = false;
  writable = true;
  closed = false;
  writableLength = 0;
  written: Buffer[] = [];
  write(data: Buffer): boolean {
    this.written.push(data);
    return true;
  }
  end(): void {
    this.writable = false;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
    this.emit('close');
  }
}
