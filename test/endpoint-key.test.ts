import { addressToSockaddr, endpointKey, nodeEndpointKey, sockaddrKey, sockaddrToAddress, socketKey } from '../src/endpoint-key';

function sockaddrIn(family: number, port: number, addr: number[]): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeUInt16LE(family, 0);
  buf.writeUInt16BE(port, 2);
  Buffer.from(addr).copy(buf, 4);
  return buf;
}

function sockaddrIn6(family: number, port: number, addr: number[]): Buffer {
  const buf = Buffer.alloc(28);
  buf.writeUInt16LE(family, 0);
  buf.writeUInt16BE(port, 2);
  Buffer.from(addr).copy(buf, 8);
  return buf;
}

const loopback6 = [...Array(15).fill(0), 1];
const mapped = [...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1];

describe('endpoint keys', () => {
  it('gives Node-reported and sockaddr IPv4 endpoints the same key', () => {
    const fromNode = nodeEndpointKey({ address: '127.0.0.1', family: 'IPv4', port: 8080 });
    expect(fromNode).toBe(sockaddrKey(sockaddrIn(2, 8080, [127, 0, 0, 1]), 2, 23));
    expect(fromNode).toBe('7f000001:8080');
  });

  it.each([
    ['::1', loopback6],
    ['0:0:0:0:0:0:0:1', loopback6],
    ['::ffff:127.0.0.1', mapped],
    ['::FFFF:7f00:1', mapped],
    ['fe80::1%eth0', [0xfe, 0x80, ...Array(13).fill(0), 1]],
    ['2001:db8::8:800:200c:417a', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a]],
    ['::', Array(16).fill(0)],
    ['1:2:3:4:5:6:7::', [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ['::1.2.3.4', [...Array(12).fill(0), 1, 2, 3, 4]],
  ])('parses IPv6 %s as bytes, matching the Windows sockaddr_in6', (text, bytes) => {
    expect(nodeEndpointKey({ address: text, family: 'IPv6', port: 443 })).toBe(sockaddrKey(sockaddrIn6(23, 443, bytes), 2, 23));
  });

  it('takes the platform AF_INET6 value (Linux 10)', () => {
    expect(sockaddrKey(sockaddrIn6(10, 1, loopback6), 2, 10)).toBe(endpointKey(loopback6, 1));
    expect(sockaddrKey(sockaddrIn6(10, 1, loopback6), 2, 23)).toBeUndefined();
  });

  it('has no key for missing or non-IP endpoints', () => {
    expect(nodeEndpointKey(undefined)).toBeUndefined();
    expect(nodeEndpointKey({})).toBeUndefined();
    expect(nodeEndpointKey({ address: 'not-an-ip', port: 1 })).toBeUndefined();
    expect(nodeEndpointKey({ address: '127.0.0.1' })).toBeUndefined();
  });

  it('keeps listening and connected sockets on the same port apart', () => {
    const local = endpointKey([127, 0, 0, 1], 80);
    expect(socketKey(local, undefined)).not.toBe(socketKey(local, endpointKey([127, 0, 0, 1], 5000)));
    expect(socketKey(local, endpointKey([127, 0, 0, 1], 5000))).not.toBe(socketKey(local, endpointKey([127, 0, 0, 2], 5000)));
  });
});

describe('sockaddr <-> address', () => {
  it.each([
    ['127.0.0.1', 'IPv4'],
    ['::1', 'IPv6'],
    ['::', 'IPv6'],
    ['2001:db8::8:800:200c:417a', 'IPv6'],
    ['fe80::1', 'IPv6'],
    ['1:0:0:2:0:0:0:3', 'IPv6', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', 'IPv6', '1::2:0:0:3:4'],
  ])('round-trips %s the way Node prints it', (address, family, printed = address) => {
    expect(sockaddrToAddress(addressToSockaddr(address, 8080, 2, 23), 2, 23)).toEqual({ address: printed, family, port: 8080 });
  });
});
