/**
 * Raw ws2_32.dll functions, with their SDK names, bound on first call. Buffers stand in for the
 * out-structs so the caller keeps the exact bytes (a WSAPROTOCOL_INFOW is a token's payload).
 */
import { lazyLibrary } from '../lazy-library';
import './koffi-types';

const bind = lazyLibrary('ws2_32.dll');

type Socket = number | bigint;

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsaduplicatesocketw */
export const WSADuplicateSocketW = bind<(s: Socket, dwProcessId: number, lpProtocolInfo: Buffer) => number>(
  'int __stdcall WSADuplicateSocketW(SOCKET s, DWORD dwProcessId, _Out_ uint8_t *lpProtocolInfo)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsasocketw */
export const WSASocketW = bind<
  (af: number, type: number, protocol: number, lpProtocolInfo: Buffer | null, g: number, dwFlags: number) => number | bigint
>('SOCKET __stdcall WSASocketW(int af, int type, int protocol, uint8_t *lpProtocolInfo, uint32_t g, DWORD dwFlags)');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-closesocket */
export const closesocket = bind<(s: Socket) => number>('int __stdcall closesocket(SOCKET s)');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-getsockopt */
/** Both pointers are addresses into native memory the caller reuses (int-option.ts): no marshalling per call. */
export const getsockopt = bind<(s: Socket, level: number, optname: number, optval: number, optlen: number) => number>(
  'int __stdcall getsockopt(SOCKET s, int level, int optname, uintptr_t optval, uintptr_t optlen)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-getsockname */
export const getsockname = bind<(s: Socket, name: Buffer, namelen: number[]) => number>(
  'int __stdcall getsockname(SOCKET s, _Out_ uint8_t *name, _Inout_ int *namelen)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-getpeername */
export const getpeername = bind<(s: Socket, name: Buffer, namelen: number[]) => number>(
  'int __stdcall getpeername(SOCKET s, _Out_ uint8_t *name, _Inout_ int *namelen)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-wsagetlasterror */
export const WSAGetLastError = bind<() => number>('int __stdcall WSAGetLastError()');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-bind */
export const bind_ = bind<(s: Socket, name: Buffer, namelen: number) => number>('int __stdcall bind(SOCKET s, uint8_t *name, int namelen)');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-listen */
export const listen = bind<(s: Socket, backlog: number) => number>('int __stdcall listen(SOCKET s, int backlog)');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-accept */
export const accept = bind<(s: Socket, addr: null, addrlen: null) => number | bigint>('SOCKET __stdcall accept(SOCKET s, void *addr, void *addrlen)');

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-setsockopt */
export const setsockopt = bind<(s: Socket, level: number, optname: number, optval: Buffer, optlen: number) => number>(
  'int __stdcall setsockopt(SOCKET s, int level, int optname, uint8_t *optval, int optlen)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-ioctlsocket */
export const ioctlsocket = bind<(s: Socket, cmd: number, argp: number[]) => number>(
  'int __stdcall ioctlsocket(SOCKET s, int32_t cmd, _Inout_ uint32_t *argp)',
);

/**
 * https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-select
 * Called through koffi's `.async` (a worker thread), so waiting never blocks the event loop.
 */
export const select = bind<(nfds: number, readfds: Buffer, writefds: null, exceptfds: null, timeout: Buffer) => number>(
  'int __stdcall select(int nfds, _Inout_ uint8_t *readfds, void *writefds, void *exceptfds, uint8_t *timeout)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsaduplicatesocketa (WSAPROTOCOL_INFOA, 372 bytes: what PHP uses) */
export const WSADuplicateSocketA = bind<(s: Socket, dwProcessId: number, lpProtocolInfo: Buffer) => number>(
  'int __stdcall WSADuplicateSocketA(SOCKET s, DWORD dwProcessId, _Out_ uint8_t *lpProtocolInfo)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsasocketa */
export const WSASocketA = bind<
  (af: number, type: number, protocol: number, lpProtocolInfo: Buffer | null, g: number, dwFlags: number) => number | bigint
>('SOCKET __stdcall WSASocketA(int af, int type, int protocol, uint8_t *lpProtocolInfo, uint32_t g, DWORD dwFlags)');
