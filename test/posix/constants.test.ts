/**
 * Every value of src/posix/constants.ts against the system headers: a C program compiled here
 * with gcc prints each constant, sizeof and offsetof, and they must equal ours (the libuv values,
 * which need libuv's headers, are checked by test/posix/uv-poll.test.ts working at all).
 * npm test installs gcc and libc6-dev when they are missing (scripts/setup-test-deps.js).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as constants from '../../src/posix/constants';
import { describeOnLinux } from '../support/platform';

/** Our name (a member as `STRUCT.member`) and the C expression that must have the same value. */
const C_EXPRESSIONS: Record<string, string> = {
  AF_UNIX: 'AF_UNIX',
  AF_INET: 'AF_INET',
  AF_INET6: 'AF_INET6',
  SOCK_STREAM: 'SOCK_STREAM',
  SOCK_NONBLOCK: 'SOCK_NONBLOCK',
  SOCK_CLOEXEC: 'SOCK_CLOEXEC',
  SOL_SOCKET: 'SOL_SOCKET',
  SO_TYPE: 'SO_TYPE',
  SO_PEERCRED: 'SO_PEERCRED',
  SO_ACCEPTCONN: 'SO_ACCEPTCONN',
  SO_PROTOCOL: 'SO_PROTOCOL',
  SO_DOMAIN: 'SO_DOMAIN',
  SO_REUSEADDR: 'SO_REUSEADDR',
  SCM_RIGHTS: 'SCM_RIGHTS',
  MSG_CTRUNC: 'MSG_CTRUNC',
  MSG_DONTWAIT: 'MSG_DONTWAIT',
  MSG_NOSIGNAL: 'MSG_NOSIGNAL',
  MSG_CMSG_CLOEXEC: 'MSG_CMSG_CLOEXEC',
  F_DUPFD_CLOEXEC: 'F_DUPFD_CLOEXEC',
  F_SETFD: 'F_SETFD',
  F_GETFL: 'F_GETFL',
  F_SETFL: 'F_SETFL',
  FD_CLOEXEC: 'FD_CLOEXEC',
  O_NONBLOCK: 'O_NONBLOCK',
  LOCK_EX: 'LOCK_EX',
  LOCK_NB: 'LOCK_NB',
  EINTR: 'EINTR',
  EAGAIN: 'EAGAIN',
  ECONNRESET: 'ECONNRESET',
  SHUT_RD: 'SHUT_RD',
  SHUT_WR: 'SHUT_WR',
  SOCKADDR_UN_SIZE: 'sizeof(struct sockaddr_un)',
  SUN_PATH_MAX: 'sizeof(((struct sockaddr_un *)0)->sun_path) - 1',
  'MSGHDR.name': 'offsetof(struct msghdr, msg_name)',
  'MSGHDR.namelen': 'offsetof(struct msghdr, msg_namelen)',
  'MSGHDR.iov': 'offsetof(struct msghdr, msg_iov)',
  'MSGHDR.iovlen': 'offsetof(struct msghdr, msg_iovlen)',
  'MSGHDR.control': 'offsetof(struct msghdr, msg_control)',
  'MSGHDR.controllen': 'offsetof(struct msghdr, msg_controllen)',
  'MSGHDR.flags': 'offsetof(struct msghdr, msg_flags)',
  'MSGHDR.size': 'sizeof(struct msghdr)',
  'MMSGHDR.hdr': 'offsetof(struct mmsghdr, msg_hdr)',
  'MMSGHDR.len': 'offsetof(struct mmsghdr, msg_len)',
  'MMSGHDR.size': 'sizeof(struct mmsghdr)',
  IOVEC_SIZE: 'sizeof(struct iovec)',
  CMSG_HEADER_SIZE: 'CMSG_LEN(0)',
  UCRED_SIZE: 'sizeof(struct ucred)',
};
const LIBUV = new Set(['UV_POLL', 'UV_READABLE', 'UV_WRITABLE']);

function ours(name: string): number {
  const [outer, member] = name.split('.');
  const value = (constants as Record<string, unknown>)[outer];
  return (member === undefined ? value : (value as Record<string, number>)[member]) as number;
}

/** What the headers say, by our names: compiled and run once. */
function fromHeaders(): Record<string, number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-constants-'));
  try {
    const lines = Object.entries(C_EXPRESSIONS).map(([name, expr]) => `  printf("%s %lld\\n", "${name}", (long long)(${expr}));`);
    const source = [
      '#define _GNU_SOURCE',
      '#include <errno.h>',
      '#include <fcntl.h>',
      '#include <stddef.h>',
      '#include <stdio.h>',
      '#include <sys/file.h>',
      '#include <sys/socket.h>',
      '#include <sys/un.h>',
      'int main(void) {',
      ...lines,
      '  return 0;',
      '}',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'constants.c'), source);
    execFileSync('gcc', ['-o', path.join(dir, 'constants'), path.join(dir, 'constants.c')], { stdio: 'pipe' });
    const out = execFileSync(path.join(dir, 'constants'), { encoding: 'utf8' });
    return Object.fromEntries(out.trim().split('\n').map((line) => [line.split(' ')[0], Number(line.split(' ')[1])]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describeOnLinux('src/posix/constants.ts', 'the values are Linux\'s', () => {
  let headers: Record<string, number>;
  beforeAll(() => (headers = fromHeaders()));

  it('checks every constant it exports (but libuv\'s)', () => {
    const exported = Object.entries(constants).flatMap(([name, value]) =>
      typeof value === 'object' ? Object.keys(value).map((member) => `${name}.${member}`) : [name],
    );
    expect(exported.filter((name) => !LIBUV.has(name)).sort()).toEqual(Object.keys(C_EXPRESSIONS).sort());
  });

  it.each(Object.keys(C_EXPRESSIONS))('%s is what the system headers say', (name) => {
    expect(ours(name)).toBe(headers[name]);
  });
});
