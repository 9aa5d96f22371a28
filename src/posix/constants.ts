/**
 * Linux x86-64/arm64 values from the kernel and glibc headers (<sys/socket.h>, <asm-generic/socket.h>,
 * <fcntl.h>, <sys/file.h>). Only Linux is wired up (see platform.ts); these are not macOS's values.
 */
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_TYPE = 3;
export const SO_PEERCRED = 17;
export const SO_ACCEPTCONN = 30;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SCM_RIGHTS = 1;
export const MSG_CTRUNC = 0x8;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
export const F_DUPFD_CLOEXEC = 1030;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const EINTR = 4;
export const EAGAIN = 11;
export const ECONNRESET = 104;
/** sizeof(struct sockaddr_un): sa_family_t sun_family; char sun_path[108]. */
export const SOCKADDR_UN_SIZE = 110;
export const SUN_PATH_MAX = 107;
/**
 * struct msghdr (64-bit): msg_name 0, msg_namelen 8, msg_iov 16, msg_iovlen 24, msg_control 32,
 * msg_controllen 40, msg_flags 48; size 56. struct iovec: iov_base 0, iov_len 8; size 16.
 * struct cmsghdr: cmsg_len (size_t) 0, cmsg_level 8, cmsg_type 12, data 16.
 */
export const MSGHDR = { name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48, size: 56 } as const;
/** struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; } (recvmmsg), padded to 8. */
export const MMSGHDR = { hdr: 0, len: 56, size: 64 } as const;
export const IOVEC_SIZE = 16;
export const CMSG_HEADER_SIZE = 16;
/** struct ucred { pid_t pid; uid_t uid; gid_t gid; }. */
export const UCRED_SIZE = 12;
/** libuv: UV_POLL in uv_handle_type, and the poll events. */
export const UV_POLL = 8;
export const UV_READABLE = 1;
export const UV_WRITABLE = 2;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SO_REUSEADDR = 2;
