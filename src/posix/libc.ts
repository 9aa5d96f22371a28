/**
 * Raw libc functions, with their POSIX names, bound on first call (never on import). Pointers into
 * native memory are passed as addresses (uintptr_t) so one native block can hold a msghdr, its
 * iovec, the control buffer and the data (see unix-link.ts). Read koffi.errno() right after a
 * failed call, in the same synchronous step.
 */
import { lazyLibrary } from '../lazy-library';

const bind = lazyLibrary('libc.so.6');

type Address = number | bigint;

export const socket = bind<(domain: number, type: number, protocol: number) => number>('int socket(int domain, int type, int protocol)');
export const bind_ = bind<(fd: number, addr: Buffer, len: number) => number>('int bind(int fd, const uint8_t *addr, uint32_t len)');
export const listen = bind<(fd: number, backlog: number) => number>('int listen(int fd, int backlog)');
export const accept4 = bind<(fd: number, addr: null, len: null, flags: number) => number>('int accept4(int fd, void *addr, void *len, int flags)');
export const connect = bind<(fd: number, addr: Buffer, len: number) => number>('int connect(int fd, const uint8_t *addr, uint32_t len)');
export const sendmsg = bind<(fd: number, msg: Address, flags: number) => number>('intptr_t sendmsg(int fd, uintptr_t msg, int flags)');
/** recvmmsg with the array as an address into native memory; timeout is always NULL here. */
export const recvmmsg = bind<(fd: number, msgvec: Address, vlen: number, flags: number, timeout: null) => number>(
  'int recvmmsg(int fd, uintptr_t msgvec, unsigned int vlen, int flags, void *timeout)',
);
export const close = bind<(fd: number) => number>('int close(int fd)');
export const getsockopt = bind<(fd: number, level: number, name: number, value: Buffer, len: number[]) => number>(
  'int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *len)',
);
/** getsockopt with both pointers as addresses into native memory the caller reuses (no marshalling per call). */
export const getsockoptAt = bind<(fd: number, level: number, name: number, value: Address, len: Address) => number>(
  'int getsockopt(int fd, int level, int name, uintptr_t value, uintptr_t len)',
);
export const fcntl = bind<(fd: number, cmd: number, ...rest: unknown[]) => number>('int fcntl(int fd, int cmd, ...)');
export const flock = bind<(fd: number, operation: number) => number>('int flock(int fd, int operation)');
export const shutdown = bind<(fd: number, how: number) => number>('int shutdown(int fd, int how)');
export const setsockopt = bind<(fd: number, level: number, name: number, value: Buffer, len: number) => number>(
  'int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)',
);
export const getsockname = bind<(fd: number, addr: Buffer, len: number[]) => number>('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)');
export const sendto = bind<(fd: number, data: Buffer, len: number, flags: number, addr: Buffer, addrLen: number) => number>(
  'intptr_t sendto(int fd, const uint8_t *data, size_t len, int flags, const uint8_t *addr, uint32_t addrLen)',
);
