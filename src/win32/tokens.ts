/**
 * WSADuplicateSocketW / WSASocketW for Windows, and Node's adoption of a raw SOCKET. Errors are
 * read with WSAGetLastError() in the same synchronous step as the failed call, and every failure
 * after WSASocketW closes the new SOCKET. Returns raw SOCKETs and facts, never objects of this package.
 */
import * as net from 'node:net';
import type { WinsockError } from '../errors';
import { readIntOption } from '../int-option';
import { netSocketFromRaw, tcpHandleFromRaw } from '../node-internals';
import type { SocketHandleInfo } from '../platform-api';
import { PROTOCOL_INFO_LAYOUT, PROTOCOL_INFO_SIZE } from '../protocol-info';
import {
  FIONBIO,
  FROM_PROTOCOL_INFO,
  PROTOCOL_INFO_A_SIZE,
  HANDLE_FLAG_INHERIT,
  INVALID_SOCKET,
  SO_ACCEPTCONN,
  SO_TYPE,
  SOCK_STREAM,
  SOL_SOCKET,
  WSA_FLAG_OVERLAPPED,
  WSAENOTSOCK,
} from './constants';
import { GetLastError, SetHandleInformation } from './kernel32';
import { winsockError } from './winsock-error';
import { closesocket, getsockopt, ioctlsocket, WSADuplicateSocketA, WSADuplicateSocketW, WSAGetLastError, WSASocketA, WSASocketW } from './ws2_32';

export function duplicateSocket(socket: bigint, targetPid: number): Buffer {
  const info = Buffer.alloc(PROTOCOL_INFO_SIZE);
  if (WSADuplicateSocketW(socket, targetPid, info) !== 0) throw winsockError('WSADuplicateSocketW', WSAGetLastError());
  return info;
}

export function duplicateSocketAnsi(socket: bigint, targetPid: number): Buffer {
  const info = Buffer.alloc(PROTOCOL_INFO_A_SIZE);
  if (WSADuplicateSocketA(socket, targetPid, info) !== 0) throw winsockError('WSADuplicateSocketA', WSAGetLastError());
  return info;
}

export function setBlocking(socket: bigint, blocking: boolean): void {
  if (ioctlsocket(socket, FIONBIO, [blocking ? 0 : 1]) !== 0) throw winsockError('ioctlsocket', WSAGetLastError());
}

function intOption(socket: bigint, optname: number): number {
  const value = readIntOption((at, length) => getsockopt(socket, SOL_SOCKET, optname, at, length));
  if (value === undefined) throw winsockError('getsockopt', WSAGetLastError());
  return value;
}

export function closeSocket(socket: bigint): void {
  if (closesocket(socket) !== 0) throw winsockError('closesocket', WSAGetLastError());
}

export function adopt(socket: bigint, kind: 'server' | 'socket', allowHalfOpen = false): net.Server | net.Socket {
  if (kind === 'socket') return netSocketFromRaw(Number(socket), allowHalfOpen);
  return net.createServer().listen(tcpHandleFromRaw(Number(socket), kind) as never);
}

export function importSocket(protocolInfo: Buffer): SocketHandleInfo {
  // The ANSI variant (372 bytes) is PHP's; both share the layout up to szProtocol.
  const ansi = protocolInfo.length === PROTOCOL_INFO_A_SIZE;
  const create = ansi ? WSASocketA : WSASocketW;
  const raw = create(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, protocolInfo, 0, WSA_FLAG_OVERLAPPED);
  const socket = BigInt(raw);
  if (socket === INVALID_SOCKET) throw winsockError(ansi ? 'WSASocketA' : 'WSASocketW', WSAGetLastError());
  let type: number;
  try {
    type = intOption(socket, SO_TYPE);
  } catch (err) {
    // Not a socket: nothing of ours to close. Wine returns such a value for a token meant for
    // another process, and it may be the number of an unrelated handle of this process, which
    // closesocket would close (docs/windows-notes.md). Real Windows fails WSASocketW instead.
    if ((err as WinsockError).errno !== WSAENOTSOCK) closesocket(socket);
    throw err;
  }
  try {
    // Only stream sockets listen; some providers refuse SO_ACCEPTCONN on datagram sockets.
    const listening = type === SOCK_STREAM ? intOption(socket, SO_ACCEPTCONN) !== 0 : false;
    // WSA_FLAG_NO_HANDLE_INHERIT has no effect on this path; Python and .NET clear the flag too.
    if (!SetHandleInformation(socket, HANDLE_FLAG_INHERIT, 0)) throw winsockError('SetHandleInformation', GetLastError());
    return {
      handle: socket,
      family: protocolInfo.readInt32LE(PROTOCOL_INFO_LAYOUT.iAddressFamily.offset),
      type,
      protocol: protocolInfo.readInt32LE(PROTOCOL_INFO_LAYOUT.iProtocol.offset),
      listening,
    };
  } catch (err) {
    closesocket(socket);
    throw err;
  }
}
