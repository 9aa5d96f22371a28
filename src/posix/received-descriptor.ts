/** A descriptor that arrived with SCM_RIGHTS: this process owns it until it is taken or closed. */
import { close } from './libc';

export class ReceivedDescriptor {
  #fd: number;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The descriptor number, or -1 once taken or closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Hands ownership to the caller, once. */
  take(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** Closes it unless it was taken or closed already. */
  close(): void {
    if (this.#fd < 0) return;
    close(this.#fd);
    this.#fd = -1;
  }
}
