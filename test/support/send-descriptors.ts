/**
 * A test-only sendmsg() that attaches any number of descriptors to one write, as a misbehaving
 * peer could (the package itself attaches exactly one, to a socket frame).
 */
import koffi from 'koffi';

const libc = () => koffi.load('libc.so.6');
let sendmsg: ((fd: number, msg: bigint, flags: number) => number) | undefined;

export function sendWithDescriptors(fd: number, data: Buffer, fds: number[]): number {
  sendmsg ??= libc().func('intptr_t sendmsg(int fd, uintptr_t msg, int flags)') as never;
  const controlLength = 16 + 4 * fds.length;
  const size = 64 + 16 + ((controlLength + 7) & ~7) + data.length;
  const memory = koffi.alloc('uint8_t', size);
  try {
    const base = koffi.address(memory);
    const view = Buffer.from(koffi.view(memory, size));
    const iov = 64;
    const control = iov + 16;
    const payload = control + ((controlLength + 7) & ~7);
    data.copy(view, payload);
    view.writeBigUInt64LE(base + BigInt(iov), 16); // msg_iov
    view.writeBigUInt64LE(1n, 24); // msg_iovlen
    view.writeBigUInt64LE(base + BigInt(control), 32); // msg_control
    view.writeBigUInt64LE(BigInt((controlLength + 7) & ~7), 40); // msg_controllen
    view.writeBigUInt64LE(base + BigInt(payload), iov);
    view.writeBigUInt64LE(BigInt(data.length), iov + 8);
    view.writeBigUInt64LE(BigInt(controlLength), control); // cmsg_len
    view.writeInt32LE(1, control + 8); // SOL_SOCKET
    view.writeInt32LE(1, control + 12); // SCM_RIGHTS
    fds.forEach((f, i) => view.writeInt32LE(f, control + 16 + 4 * i));
    return Number((sendmsg as (fd: number, msg: bigint, flags: number) => number)(fd, base, 0x4000));
  } finally {
    koffi.free(memory);
  }
}

/** This process's open descriptors. */
export function openDescriptors(): number {
  return require('node:fs').readdirSync('/proc/self/fd').length - 1;
}
