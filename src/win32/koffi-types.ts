/**
 * Win32 C typedefs as koffi types, declared once. koffi's type names are process-wide, so a second
 * copy of this module (jest's module registry, or two copies of the package in one app) reuses
 * the name instead of failing with "Duplicate type name". SOCKET is UINT_PTR in the SDK.
 * https://learn.microsoft.com/en-us/windows/win32/winsock/socket-data-type-2
 */
import koffi from 'koffi';

function aliasOnce(name: string, type: string): unknown {
  try {
    return koffi.type(name);
  } catch {
    return koffi.alias(name, type);
  }
}

export const SOCKET = aliasOnce('SOCKET', 'uintptr_t');
export const DWORD = aliasOnce('DWORD', 'uint32_t');
export const HANDLE = aliasOnce('HANDLE', 'uintptr_t');
export const BOOL = aliasOnce('BOOL', 'int32_t');
export const WCHAR = aliasOnce('WCHAR', 'uint16_t');
