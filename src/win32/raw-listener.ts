/**
 * A listening TCP socket made with Winsock directly, never given to libuv's AcceptEx path, so it
 * can be handed over without losing a connection (see accept-loop.ts).
 */
import { invalidArgValue } from '../errors';
import { addressToSockaddr, sockaddrToAddress, type AddressInfo } from '../endpoint-key';
import { isIP } from 'node:net';
import {
  AF_INET,
  AF_INET6,
  HANDLE_FLAG_INHERIT,
  INVALID_SOCKET,
  IPPROTO_TCP,
  SO_EXCLUSIVEADDRUSE,
  SOCK_STREAM,
  SOL_SOCKET,
  WSA_FLAG_OVERLAPPED,
} from './constants';
import { GetLastError, SetHandleInformation } from './kernel32';
import { readSockaddr } from './socket-address';
import { winsockError } from './winsock-error';
import { bind_, closesocket, listen, setsockopt, WSAGetLastError, WSASocketW } from './ws2_32';

export interface RawListenOptions {
  host: string;
  port: number;
  backlog: number;
}

/** socket(), bind(), listen(); every failure closes what was opened. */
export function createListeningSocket({ host, port, backlog }: RawListenOptions): bigint {
  const family = isIP(host);
  if (family === 0) throw invalidArgValue('options.host', 'an IPv4 or IPv6 address literal (no host names)', host);
  const socket = BigInt(WSASocketW(family === 4 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP, null, 0, WSA_FLAG_OVERLAPPED));
  if (socket === INVALID_SOCKET) throw winsockError('WSASocketW', WSAGetLastError());
  try {
    if (!SetHandleInformation(socket, HANDLE_FLAG_INHERIT, 0)) throw winsockError('SetHandleInformation', GetLastError());
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    if (setsockopt(socket, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, one, 4) !== 0) throw winsockError('setsockopt', WSAGetLastError());
    const name = addressToSockaddr(host, port, AF_INET, AF_INET6);
    if (bind_(socket, name, name.length) !== 0) throw winsockError('bind', WSAGetLastError());
    if (listen(socket, backlog) !== 0) throw winsockError('listen', WSAGetLastError());
    return socket;
  } catch (err) {
    closesocket(socket);
    throw err;
  }
}

/** The local address of a socket, as Node's server.address() gives it. */
export function localAddress(socket: bigint): AddressInfo | undefined {
  const sockaddr = readSockaddr('local', socket);
  return sockaddr === undefined ? undefined : sockaddrToAddress(sockaddr, AF_INET, AF_INET6);
}
