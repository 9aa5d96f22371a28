/**
 * Canonical keys for socket endpoints, so that a socket's addresses as Node reports them
 * (`{ address: '::1', family: 'IPv6', port }`) and as a raw sockaddr reports them compare equal.
 * Addresses are compared as bytes, never as text: '::ffff:127.0.0.1' and '::FFFF:7f00:1' are one address.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** An endpoint as Node's `handle.getsockname(out)` / `getpeername(out)` fill it. */
export interface NodeEndpoint {
  address?: string;
  family?: string | number;
  port?: number;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map((part) => Number(part));
}

function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0];
  let tail: number[] = [];
  if (text.includes('.')) {
    // An embedded IPv4 tail ('::ffff:1.2.3.4') stands for the last two groups.
    const cut = text.lastIndexOf(':');
    tail = ipv4Bytes(text.slice(cut + 1));
    text = text.slice(0, cut + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const groupsWanted = (16 - tail.length) / 2;
  let groups: string[];
  if (text.includes('::')) {
    const [headText, restText] = text.split('::');
    const head = headText ? headText.split(':') : [];
    const rest = restText ? restText.split(':') : [];
    groups = [...head, ...Array<string>(groupsWanted - head.length - rest.length).fill('0'), ...rest];
  } else {
    groups = text ? text.split(':') : [];
  }
  const bytes: number[] = [];
  for (const group of groups) {
    const value = parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return [...bytes, ...tail];
}

function hex(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, '0');
  return out;
}

/** Key of one endpoint from raw address bytes (4 for IPv4, 16 for IPv6) and a port. */
export function endpointKey(addressBytes: ArrayLike<number>, port: number): string {
  return `${hex(addressBytes)}:${port}`;
}

/** Key of an endpoint as Node reports it, or undefined when Node reported none (not connected). */
export function nodeEndpointKey(endpoint: NodeEndpoint | undefined): string | undefined {
  if (!endpoint || typeof endpoint.address !== 'string' || typeof endpoint.port !== 'number') return undefined;
  if (isIPv4(endpoint.address)) return endpointKey(ipv4Bytes(endpoint.address), endpoint.port);
  if (isIPv6(endpoint.address.split('%')[0])) return endpointKey(ipv6Bytes(endpoint.address), endpoint.port);
  return undefined;
}

/**
 * Key of a raw sockaddr (sockaddr_in or sockaddr_in6), or undefined for other families.
 * `af6` is the platform's AF_INET6 (23 on Windows, 10 on Linux, 30 on macOS).
 */
export function sockaddrKey(sockaddr: Buffer, af4: number, af6: number): string | undefined {
  const family = sockaddr.readUInt16LE(0);
  const port = sockaddr.readUInt16BE(2);
  if (family === af4) return endpointKey(sockaddr.subarray(4, 8), port);
  if (family === af6) return endpointKey(sockaddr.subarray(8, 24), port);
  return undefined;
}

/** Key of a socket: its local endpoint, and its peer when connected. */
export function socketKey(local: string, peer: string | undefined): string {
  return peer === undefined ? `${local}>listening-or-unconnected` : `${local}>${peer}`;
}

/** An address as Node's server.address() gives it. */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

function ipv6Text(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // RFC 5952: the longest run of two or more zero groups becomes '::' (the first, on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLength).join(':')}`;
}

/** A raw sockaddr_in/sockaddr_in6 as `{ address, family, port }`, or undefined for other families. */
export function sockaddrToAddress(sockaddr: Buffer, af4: number, af6: number): AddressInfo | undefined {
  const family = sockaddr.readUInt16LE(0);
  const port = sockaddr.readUInt16BE(2);
  if (family === af4) return { address: [...sockaddr.subarray(4, 8)].join('.'), family: 'IPv4', port };
  if (family === af6) return { address: ipv6Text(sockaddr.subarray(8, 24)), family: 'IPv6', port };
  return undefined;
}

/**
 * Fills a sockaddr_in/sockaddr_in6 for an IP literal and a port. The family is a 16-bit field in
 * host byte order on Windows and Linux alike (written little-endian: every platform this package
 * runs on, x86-64 and arm64, is little-endian); port and address are in network byte order.
 */
export function addressToSockaddr(address: string, port: number, af4: number, af6: number): Buffer {
  if (isIPv4(address)) {
    const buf = Buffer.alloc(16);
    buf.writeUInt16LE(af4, 0);
    buf.writeUInt16BE(port, 2);
    Buffer.from(ipv4Bytes(address)).copy(buf, 4);
    return buf;
  }
  const buf = Buffer.alloc(28);
  buf.writeUInt16LE(af6, 0);
  buf.writeUInt16BE(port, 2);
  Buffer.from(ipv6Bytes(address)).copy(buf, 8);
  return buf;
}
