/**
 * Win32 C typedefs as koffi types, declared once. koffi 3 represents pointers and pointer-sized
 * integers as BigInt-or-number; SOCKET is UINT_PTR in the SDK.
 * https://learn.microsoft.com/en-us/windows/win32/winsock/socket-data-type-2
 */
import koffi from 'koffi';

export const SOCKET = koffi.alias('SOCKET', 'uintptr_t');
export const DWORD = koffi.alias('DWORD', 'uint32_t');
export const HANDLE = koffi.alias('HANDLE', 'uintptr_t');
export const BOOL = koffi.alias('BOOL', 'int32_t');
export const WCHAR = koffi.alias('WCHAR', 'uint16_t');
