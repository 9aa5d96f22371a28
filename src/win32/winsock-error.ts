/**
 * Turns a Winsock/Win32 error number into a WinsockError. Called at the egress point only: the
 * number must have been read with WSAGetLastError()/GetLastError() right after the failed call.
 */
import { WinsockError, type WinsockErrorCode } from '../errors';
import { FormatMessageW } from './kernel32';
import { FORMAT_MESSAGE_FROM_SYSTEM, FORMAT_MESSAGE_IGNORE_INSERTS } from './constants';

/** SDK names of the errors these calls can return (winerror.h / winsock2.h). */
const ERROR_NAMES: Readonly<Record<number, WinsockErrorCode>> = {
  2: 'ERROR_FILE_NOT_FOUND',
  5: 'ERROR_ACCESS_DENIED',
  6: 'ERROR_INVALID_HANDLE',
  87: 'ERROR_INVALID_PARAMETER',
  183: 'ERROR_ALREADY_EXISTS',
  10004: 'WSAEINTR',
  10009: 'WSAEBADF',
  10013: 'WSAEACCES',
  10014: 'WSAEFAULT',
  10022: 'WSAEINVAL',
  10024: 'WSAEMFILE',
  10035: 'WSAEWOULDBLOCK',
  10036: 'WSAEINPROGRESS',
  10037: 'WSAEALREADY',
  10038: 'WSAENOTSOCK',
  10039: 'WSAEDESTADDRREQ',
  10040: 'WSAEMSGSIZE',
  10041: 'WSAEPROTOTYPE',
  10042: 'WSAENOPROTOOPT',
  10043: 'WSAEPROTONOSUPPORT',
  10044: 'WSAESOCKTNOSUPPORT',
  10045: 'WSAEOPNOTSUPP',
  10046: 'WSAEPFNOSUPPORT',
  10047: 'WSAEAFNOSUPPORT',
  10048: 'WSAEADDRINUSE',
  10049: 'WSAEADDRNOTAVAIL',
  10050: 'WSAENETDOWN',
  10051: 'WSAENETUNREACH',
  10052: 'WSAENETRESET',
  10053: 'WSAECONNABORTED',
  10054: 'WSAECONNRESET',
  10055: 'WSAENOBUFS',
  10056: 'WSAEISCONN',
  10057: 'WSAENOTCONN',
  10058: 'WSAESHUTDOWN',
  10060: 'WSAETIMEDOUT',
  10061: 'WSAECONNREFUSED',
  10067: 'WSAEPROCLIM',
  10091: 'WSASYSNOTREADY',
  10092: 'WSAVERNOTSUPPORTED',
  10093: 'WSANOTINITIALISED',
  10101: 'WSAEDISCON',
  10104: 'WSAEINVALIDPROCTABLE',
  10105: 'WSAEINVALIDPROVIDER',
  10106: 'WSAEPROVIDERFAILEDINIT',
  10107: 'WSASYSCALLFAILURE',
};

/** The SDK name of an error number, or `WIN32_ERROR_<n>` for numbers not in the table. */
export function errorName(errno: number): WinsockErrorCode {
  return ERROR_NAMES[errno] ?? `WIN32_ERROR_${errno}`;
}

/** The system's own text for an error number (FormatMessageW), or '' when it has none. */
export function systemText(errno: number): string {
  const buf = Buffer.alloc(1024);
  const chars = FormatMessageW(
    FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
    null,
    errno,
    0,
    buf,
    buf.length / 2,
    null,
  );
  return chars > 0 ? buf.toString('utf16le', 0, chars * 2).trim() : '';
}

/** Builds the WinsockError for a failed call. */
export function winsockError(syscall: string, errno: number): WinsockError {
  return new WinsockError(syscall, errno, errorName(errno), systemText(errno) || 'unknown error');
}
