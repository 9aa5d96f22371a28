/** Raw kernel32.dll functions, with their SDK names, bound on first call. */
import { lazyLibrary } from '../lazy-library';
import './koffi-types';

const bind = lazyLibrary('kernel32.dll');

type Handle = number | bigint;

/** https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-sethandleinformation */
export const SetHandleInformation = bind<(hObject: Handle, dwMask: number, dwFlags: number) => number>(
  'BOOL __stdcall SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/errhandlingapi/nf-errhandlingapi-getlasterror */
export const GetLastError = bind<() => number>('DWORD __stdcall GetLastError()');

/** https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-formatmessagew */
export const FormatMessageW = bind<
  (dwFlags: number, lpSource: null, dwMessageId: number, dwLanguageId: number, lpBuffer: Buffer, nSize: number, args: null) => number
>(
  'DWORD __stdcall FormatMessageW(DWORD dwFlags, void *lpSource, DWORD dwMessageId, DWORD dwLanguageId, _Out_ uint8_t *lpBuffer, DWORD nSize, void *Arguments)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-getnamedpipeclientprocessid */
export const GetNamedPipeClientProcessId = bind<(pipe: Handle, clientProcessId: number[]) => number>(
  'BOOL __stdcall GetNamedPipeClientProcessId(HANDLE Pipe, _Out_ DWORD *ClientProcessId)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-getnamedpipeclientcomputernamew */
export const GetNamedPipeClientComputerNameW = bind<(pipe: Handle, clientComputerName: Buffer, length: number) => number>(
  'BOOL __stdcall GetNamedPipeClientComputerNameW(HANDLE Pipe, _Out_ uint8_t *ClientComputerName, DWORD ClientComputerNameLength)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/namedpipeapi/nf-namedpipeapi-getnamedpipeinfo */
export const GetNamedPipeInfo = bind<(pipe: Handle, flags: number[], outBufferSize: null, inBufferSize: null, maxInstances: null) => number>(
  'BOOL __stdcall GetNamedPipeInfo(HANDLE hNamedPipe, _Out_ DWORD *lpFlags, DWORD *lpOutBufferSize, DWORD *lpInBufferSize, DWORD *lpMaxInstances)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-createfilemappingw (hFile INVALID_HANDLE_VALUE: backed by the paging file) */
export const CreateFileMappingW = bind<(hFile: Handle, attributes: null, protect: number, sizeHigh: number, sizeLow: number, name: string) => number | bigint>(
  'HANDLE __stdcall CreateFileMappingW(HANDLE hFile, void *lpFileMappingAttributes, DWORD flProtect, DWORD dwMaximumSizeHigh, DWORD dwMaximumSizeLow, const char16_t *lpName)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-openfilemappingw */
export const OpenFileMappingW = bind<(access: number, inherit: number, name: string) => number | bigint>(
  'HANDLE __stdcall OpenFileMappingW(DWORD dwDesiredAccess, BOOL bInheritHandle, const char16_t *lpName)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-mapviewoffile */
export const MapViewOfFile = bind<(map: Handle, access: number, offsetHigh: number, offsetLow: number, bytes: number) => unknown>(
  'void * __stdcall MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess, DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow, size_t dwNumberOfBytesToMap)',
);

/** https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-unmapviewoffile */
export const UnmapViewOfFile = bind<(view: unknown) => number>('BOOL __stdcall UnmapViewOfFile(void *lpBaseAddress)');

/** https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-closehandle */
export const CloseHandle = bind<(handle: Handle) => number>('BOOL __stdcall CloseHandle(HANDLE hObject)');

/** https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-createmutexw (a named object used as a lock by existence) */
export const CreateMutexW = bind<(attributes: null, initialOwner: number, name: string) => number | bigint>(
  'HANDLE __stdcall CreateMutexW(void *lpMutexAttributes, BOOL bInitialOwner, const char16_t *lpName)',
);
