/** Winsock and Win32 constants, with the SDK's names and values (winsock2.h, ws2def.h, winbase.h). */

/** WSASocketW: take af/type/protocol from the WSAPROTOCOL_INFOW. */
export const FROM_PROTOCOL_INFO = -1;
export const WSA_FLAG_OVERLAPPED = 0x01;
export const INVALID_SOCKET = 0xffffffffffffffffn;
export const SOCKET_ERROR = -1;
export const WSAENOTSOCK = 10038;

export const SOL_SOCKET = 0xffff;
export const SO_ACCEPTCONN = 0x0002;
export const SO_TYPE = 0x1008;

export const AF_INET = 2;
export const AF_INET6 = 23;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const HANDLE_FLAG_INHERIT = 0x1;

export const FORMAT_MESSAGE_FROM_SYSTEM = 0x1000;
export const FORMAT_MESSAGE_IGNORE_INSERTS = 0x200;

/** libuv's uv_handle_type for TCP handles (uv.h: UV_TCP). */
export const UV_TCP = 12;
/** libuv's uv_handle_type for named pipes (uv.h: UV_NAMED_PIPE). */
export const UV_NAMED_PIPE = 7;
/** GetNamedPipeClientComputerNameW fails with this for a client on this machine. */
export const ERROR_PIPE_LOCAL = 229;
export const WSAEWOULDBLOCK = 10035;
/** ioctlsocket: set or clear non-blocking mode. */
export const FIONBIO = 0x8004667e | 0;
/** ~SO_REUSEADDR: no other socket may bind the same address (what libuv uses too). */
export const SO_EXCLUSIVEADDRUSE = ~0x0004;
export const SOMAXCONN = 0x7fffffff;
/** GetNamedPipeInfo flag: the handle is the server end of a pipe instance. */
export const PIPE_SERVER_END = 0x1;
/** CreateFileMappingW: a mapping backed by the paging file. */
export const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;
export const PAGE_READWRITE = 0x04;
export const FILE_MAP_WRITE = 0x0002;
export const FILE_MAP_READ = 0x0004;
export const ERROR_ALREADY_EXISTS = 183;
/** sizeof(WSAPROTOCOL_INFOA): the ANSI variant PHP's Windows build uses (_MBCS, not UNICODE). */
export const PROTOCOL_INFO_A_SIZE = 372;
