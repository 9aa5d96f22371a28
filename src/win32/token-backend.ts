/**
 * WSADuplicateSocketW / WSASocketW for Windows. Errors are read with WSAGetLastError() in the same
 * synchronous step as the failed call, and every failure after WSASocketW closes the new SOCKET.
 */
import * as net from 'node:net';
import type { TokenBackend } from '../backend';
import { SocketHandoffError } from '../errors';
import { wrapTcpSocket } from '../node-internals';
import { PROTOCOL_INFO_SIZE } from '../protocol-info';
import { SocketHandle, type SocketHandleOps } from '../socket-handle';
import {
  FROM_PROTOCOL_INFO,
  HANDLE_FLAG_INHERIT,
  INVALID_SOCKET,
  SO_ACCEPTCONN,
  SOCK_STREAM,
  SOL_SOCKET,
  WSA_FLAG_OVERLAPPED,
} from './constants';
import { GetCurrentProcess, GetLastError, GetProcessHandleCount, SetHandleInformation } from './kernel32';
import { findSocketByKey } from './node-socket-lookup';
import { winsockError } from './winsock-error';
import { closesocket, getsockopt, WSADuplicateSocketW, WSAGetLastError, WSASocketW } from './ws2_32';

function duplicateSocket(socket: bigint, targetPid: number): Buffer {
  const info = Buffer.alloc(PROTOCOL_INFO_SIZE);
  if (WSADuplicateSocketW(socket, targetPid, info) !== 0) throw winsockError('WSADuplicateSocketW', WSAGetLastError());
  return info;
}

function isListening(socket: bigint, type: number): boolean {
  const value = Buffer.alloc(4);
  const len = [value.length];
  if (getsockopt(socket, SOL_SOCKET, SO_ACCEPTCONN, value, len) !== 0) {
    const errno = WSAGetLastError();
    // Only stream sockets can listen; some providers refuse the option on datagram sockets.
    if (type !== SOCK_STREAM) return false;
    throw winsockError('getsockopt', errno);
  }
  return value.readInt32LE(0) !== 0;
}

function closeSocket(socket: bigint): void {
  if (closesocket(socket) !== 0) throw winsockError('closesocket', WSAGetLastError());
}

function adopt(socket: bigint, kind: 'server' | 'socket'): net.Server | net.Socket {
  const wrap = wrapTcpSocket(Number(socket), kind);
  if (typeof wrap === 'number') {
    throw new SocketHandoffError('ERR_BINDING_UNAVAILABLE', `Node could not adopt SOCKET ${socket} (libuv error ${wrap}); the handle is still open: close() it`);
  }
  if (kind === 'server') return net.createServer().listen(wrap as never);
  // `handle` is a documented-in-source but untyped constructor option (lib/net.js).
  return new net.Socket({ handle: wrap, readable: true, writable: true } as net.SocketConstructorOpts);
}

const handleOps: SocketHandleOps = {
  close: closeSocket,
  adoptServer: (socket) => adopt(socket, 'server') as net.Server,
  adoptSocket: (socket) => adopt(socket, 'socket') as net.Socket,
};

function importSocket(protocolInfo: Buffer): SocketHandle {
  const raw = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, protocolInfo, 0, WSA_FLAG_OVERLAPPED);
  const socket = BigInt(raw);
  if (socket === INVALID_SOCKET) throw winsockError('WSASocketW', WSAGetLastError());
  try {
    // WSA_FLAG_NO_HANDLE_INHERIT has no effect on this path; Python and .NET clear the flag too.
    if (!SetHandleInformation(socket, HANDLE_FLAG_INHERIT, 0)) throw winsockError('SetHandleInformation', GetLastError());
    const type = protocolInfo.readInt32LE(88);
    return new SocketHandle(
      {
        handle: socket,
        family: protocolInfo.readInt32LE(76),
        type,
        protocol: protocolInfo.readInt32LE(92),
        listening: isListening(socket, type),
      },
      handleOps,
    );
  } catch (err) {
    closesocket(socket);
    throw err;
  }
}

function processHandleCount(): number {
  const count = [0];
  if (!GetProcessHandleCount(GetCurrentProcess(), count)) throw winsockError('GetProcessHandleCount', GetLastError());
  return count[0];
}

export const win32TokenBackend: TokenBackend = {
  findSocketByKey,
  duplicateSocket,
  importSocket,
  processHandleCount,
};
