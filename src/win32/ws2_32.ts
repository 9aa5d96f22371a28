/**
 * Raw ws2_32.dll functions, with their SDK names, bound on first call. Buffers stand in for the
 * out-structs so the caller keeps the exact bytes (a WSAPROTOCOL_INFOW is a token's payload).
 */
import { lazyLibrary } from './lazy-library';

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
export const getsockopt = bind<(s: Socket, level: number, optname: number, optval: Buffer, optlen: number[]) => number>(
  'int __stdcall getsockopt(SOCKET s, int level, int optname, _Out_ uint8_t *optval, _Inout_ int *optlen)',
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
