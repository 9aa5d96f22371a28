"""socket-handoff channel peer for Python 3.9+ (Linux), standard library only.

Speaks protocol version 1 of docs/protocol.md with a Node.js (or any other) peer:

    import socket_handoff

    def on_socket(sock, info):           # a connection (or listener) that now belongs to us
        data = info['head'] + sock.recv(4096)
        ...

    socket_handoff.receive('my-workers', on_socket)      # serves until interrupted

    sender = socket_handoff.open_sender('my-workers')
    sender.send(conn, head=b'GET / HTTP/1.1\\r\\n', meta={'route': '/'})   # conn is closed here

Rules kept (docs/protocol.md): both ends check the other's uid with SO_PEERCRED, the receiver
checks the sender's pid, holds an exclusive flock on <path>.lock while it listens, acknowledges a
socket only once it holds a valid copy, and adopts it only on `commit`. A sender closes its copy
only after writing `commit`; on `nack`, a timeout or a receiver that went away, send() raises
HandoffError and the caller still owns the socket. Every descriptor received and not adopted is
closed.

Descriptors are shared with the sender, file status flags included: a socket from Node arrives
non-blocking, and the socket given to on_socket reports that (getblocking() is False). Call
sock.setblocking(True) yourself if you want blocking I/O: for a connection the sender has let go
by then; never for a listener the sender kept open (keepOpen), whose accept loop would block.

Windows (UNTESTED: no Windows Python runs in this project's tests): the same API over the named
pipe \\.\pipe\<name>, each socket travelling as base64(sock.share(receiver_pid)) in the frame's
`token` and imported with socket.fromshare(). There Python cannot read a socket's blocking mode:
one from Node is non-blocking although getblocking() says True; call setblocking() yourself once
the socket is yours. See docs/interop.md.
"""

import base64
import errno as _errno
import hashlib
import hmac
import json
import os
import re
import secrets
import selectors
import socket
import stat
import struct
import sys
import threading
import time

_WINDOWS = sys.platform == 'win32'
if not _WINDOWS:
    import fcntl

__all__ = ['HandoffError', 'Receiver', 'Sender', 'receive', 'open_sender', 'channel_path', 'PROTOCOL_VERSION']

PROTOCOL_VERSION = 1
MAX_FRAME_SIZE = 1024 * 1024
MAX_DESCRIPTORS_PER_READ = 8
SUN_PATH_MAX = 107
READ_SIZE = 65536
_SO_DOMAIN = getattr(socket, 'SO_DOMAIN', 39)
_SO_ACCEPTCONN = getattr(socket, 'SO_ACCEPTCONN', 2 if _WINDOWS else 30)
_NAME = re.compile(r'^[A-Za-z0-9._-]{1,80}$')
_BASE64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')
_UNREACHABLE = {_errno.ENOENT, _errno.ECONNREFUSED, _errno.EACCES, _errno.EAGAIN, _errno.ENOTDIR}


class HandoffError(Exception):
    """An error with a stable code from docs/errors.md (e.g. ERR_FOREIGN_UID).

    `reason` is the receiver's code for ERR_HANDOFF_REFUSED (e.g. ERR_HANDOFF_DECLINED)."""

    def __init__(self, code, message, reason=None):
        super().__init__('%s: %s' % (code, message))
        self.code = code
        self.reason = reason


def _malformed(what):
    return HandoffError('ERR_MALFORMED_FRAME', what)


# ---------------------------------------------------------------------------------------------
# Where the channel lives
# ---------------------------------------------------------------------------------------------

def _normalize(path):
    """POSIX path normalisation as the Node side does it (path.join): '//' and '.' go, 'x/..' cancels."""
    absolute = path.startswith('/')
    out = []
    for seg in path.split('/'):
        if seg in ('', '.'):
            continue
        if seg == '..':
            if out and out[-1] != '..':
                out.pop()
            elif not absolute:
                out.append('..')
            continue
        out.append(seg)
    joined = '/'.join(out)
    return '/' + joined if absolute else (joined or '.')


def runtime_directory():
    """$XDG_RUNTIME_DIR/socket-handoff if that is set to an absolute path, else
    <TMPDIR|TMP|TEMP|/tmp>/socket-handoff-<effective uid> (/tmp when real and effective ids differ)."""
    xdg = os.environ.get('XDG_RUNTIME_DIR', '')
    if xdg.startswith('/'):
        return _normalize(xdg + '/socket-handoff')
    # Like Node, a process whose real and effective ids differ does not trust these variables.
    trusted = os.getuid() == os.geteuid() and os.getgid() == os.getegid()
    tmp = (trusted and (os.environ.get('TMPDIR') or os.environ.get('TMP') or os.environ.get('TEMP'))) or '/tmp'
    if len(tmp) > 1 and tmp.endswith('/'):
        tmp = tmp[:-1]
    return _normalize('%s/socket-handoff-%d' % (tmp, os.geteuid()))


def channel_path(name):
    """The socket path of channel `name`: `name` itself if it starts with '/', else a file in
    runtime_directory(). Raises ERR_INVALID_ARG_VALUE for a bad name or a path over 107 bytes."""
    if not isinstance(name, str) or not name:
        raise HandoffError('ERR_INVALID_ARG_VALUE', 'name must be a non-empty string')
    if _WINDOWS:
        if re.match(r'^\\\\[.?]\\pipe\\', name, re.I):
            return name
        if len(name) > 200 or re.search(r'[\\/:*?"<>|\0]', name):
            raise HandoffError('ERR_INVALID_ARG_VALUE', 'a channel name of at most 200 characters without \\ / : * ? " < > |, or a full \\\\.\\pipe\\ path')
        return '\\\\.\\pipe\\' + name
    if name.startswith('/'):
        path = name
    elif not _NAME.match(name) or name in ('.', '..'):
        raise HandoffError('ERR_INVALID_ARG_VALUE', 'a channel name is 1 to 80 letters, digits, ".", "_" or "-" (not "." or ".."), or an absolute path')
    else:
        path = _normalize(runtime_directory() + '/' + name + '.sock')
    raw = path.encode('utf-8')
    if len(raw) > SUN_PATH_MAX or b'\0' in raw:
        raise HandoffError('ERR_INVALID_ARG_VALUE', 'a socket path of 1 to %d bytes without NUL; %r has %d' % (SUN_PATH_MAX, path, len(raw)))
    return path


def _check_private_directory(directory, code):
    try:
        st = os.lstat(directory)
    except OSError as err:
        raise HandoffError(code, '%s: %s' % (directory, err))
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        raise HandoffError(code, '%s is not a private folder of this user (owner uid %d, mode %o)' % (directory, st.st_uid, st.st_mode & 0o777))


def _peer_credentials(sock):
    pid, uid, gid = struct.unpack('3i', sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid, uid & 0xffffffff, gid & 0xffffffff


# ---------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError('%s is not JSON' % name)


def _encode(message, max_size=MAX_FRAME_SIZE):
    body = json.dumps(message, separators=(',', ':'), ensure_ascii=False, allow_nan=False).encode('utf-8')
    if len(body) > max_size:
        raise HandoffError('ERR_FRAME_TOO_LARGE', 'frame of %d bytes exceeds the limit of %d bytes' % (len(body), max_size))
    return struct.pack('>I', len(body)) + body


def _parse_body(body):
    try:
        text = body.decode('utf-8')
        if text.startswith('\ufeff'):
            text = text[1:]  # the Node side skips a byte order mark too
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise _malformed('frame body is not UTF-8 JSON: %s' % err)
    if not isinstance(value, dict):
        raise _malformed('frame body is not a JSON object')
    return value


def _integer(value, low, high):
    """A JSON number with an integer value in [low, high] (1.0 counts as 1), as an int; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and low <= value <= high:
        return value
    return None


class _Decoder:
    """Whole frames out of a byte stream, each with the stream offset at which it starts."""

    def __init__(self, max_size):
        self.max_size = max_size
        self.buffer = bytearray()
        self.consumed = 0

    def push(self, data):
        self.buffer += data
        frames = []
        while len(self.buffer) >= 4:
            (size,) = struct.unpack_from('>I', self.buffer)
            if size == 0:
                raise _malformed('frame with an empty body')
            if size > self.max_size:
                raise HandoffError('ERR_FRAME_TOO_LARGE', 'frame of %d bytes exceeds the limit of %d bytes' % (size, self.max_size))
            if len(self.buffer) < 4 + size:
                break
            start = self.consumed
            body = bytes(self.buffer[4:4 + size])
            del self.buffer[:4 + size]
            self.consumed += 4 + size
            frames.append((start, _parse_body(body)))
        return frames


def _read_with_descriptors(sock):
    """One recvmsg(): (bytes, descriptors, lost). `lost`: MSG_CTRUNC with slots to spare, i.e. this
    process could not install a descriptor (its descriptor limit). Raises ERR_DESCRIPTORS_TRUNCATED
    (descriptors closed) when every slot was filled: the peer attached too many."""
    data, ancdata, flags, _ = sock.recvmsg(READ_SIZE, socket.CMSG_SPACE(4 * MAX_DESCRIPTORS_PER_READ), socket.MSG_CMSG_CLOEXEC)
    fds = []
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            count = len(payload) // 4
            fds.extend(struct.unpack('%di' % count, payload[:4 * count]))
    lost = False
    if flags & socket.MSG_CTRUNC:
        if len(fds) >= MAX_DESCRIPTORS_PER_READ:
            _close_all(fds)
            raise HandoffError('ERR_DESCRIPTORS_TRUNCATED', 'the peer attached more descriptors than one message carries (at most %d); they were closed' % MAX_DESCRIPTORS_PER_READ)
        lost = True
    return data, fds, lost


def _close_all(fds):
    for fd in fds:
        if fd is None:  # a descriptor lost on the way in: nothing to close
            continue
        try:
            os.close(fd)
        except OSError:
            pass


class _Connection:
    """Frames and descriptors of one channel connection, with the binding rule of docs/protocol.md:
    a descriptor belongs to the `socket` frame that starts within the bytes of the read it came
    with; whole earlier frames in that read claim nothing."""

    def __init__(self, sock, max_size):
        self.sock = sock
        self.decoder = _Decoder(max_size)
        self.received = 0
        self.pending = []  # [fd, start, end]

    def read(self):
        """Returns [(message, descriptors)] for the frames this read completed; [] and eof on EOF."""
        data, fds, lost = _read_with_descriptors(self.sock)
        if not data:
            _close_all(fds)
            return None
        start = self.received
        self.received += len(data)
        self.pending.extend([fd, start, self.received] for fd in fds)
        if lost:  # bound like a descriptor that arrived: its socket frame gets ERR_RECEIVER_BUSY
            self.pending.append([None, start, self.received])
        out = []
        try:
            for frame_start, message in self.decoder.push(data):
                if self.pending and self.pending[0][2] <= frame_start:
                    raise _malformed('a descriptor arrived without a socket frame starting with it')
                own = []
                if message.get('type') == 'socket':
                    while self.pending and self.pending[0][1] <= frame_start:
                        own.append(self.pending.pop(0)[0])
                out.append((message, own))
        except HandoffError:
            for _, own in out:
                _close_all(own)
            raise
        return out

    def send(self, message, max_size=MAX_FRAME_SIZE):
        self.sock.sendall(_encode(message, max_size))

    def close(self):
        _close_all(fd for fd, _, _ in self.pending)
        self.pending = []
        self.sock.close()


# ---------------------------------------------------------------------------------------------
# Receiver
# ---------------------------------------------------------------------------------------------

class _Peer:
    def __init__(self, conn, pid, uid):
        self.conn = conn
        self.pid = pid
        self.uid = uid
        self.nonce = base64.b64encode(secrets.token_bytes(16)).decode('ascii')
        self.sender_pid = None
        self.held = {}  # id -> (socket, info)
        self.deadline = None
        self.closing_until = None


def _report(err, pid):
    sys.stderr.write('socket_handoff: sender %s refused: %s\n' % (pid, err))


class Receiver:
    """Listens on channel `name`; each socket a sender hands over goes to on_socket(sock, info).

    info: {'id', 'pid' (the sender's), 'meta', 'head' (bytes to read before the socket's own),
    'listening' (a listener, per SO_ACCEPTCONN), 'half_open'}. Options: secret, accept(info) -> bool
    (False: nack ERR_HANDOFF_DECLINED), listeners (False: refuse listeners with
    ERR_UNSUPPORTED_SOCKET_TYPE), handshake_timeout (s), write_timeout (s: a sender that does not
    read its answers for that long is dropped, so it cannot stall the others), max_frame_size,
    on_error(err, pid)."""

    def __init__(self, name, on_socket, secret=None, accept=None, listeners=True, handshake_timeout=5.0,
                 max_frame_size=MAX_FRAME_SIZE, on_error=_report, write_timeout=5.0):
        self.write_timeout = write_timeout
        self.path = channel_path(name)
        self.on_socket = on_socket
        self.secret = secret
        self.accept = accept
        self.listeners = listeners
        self.handshake_timeout = handshake_timeout
        self.max_frame_size = max_frame_size
        self.on_error = on_error
        self.peers = {}
        directory = os.path.dirname(self.path)
        if not name.startswith('/'):
            try:
                os.mkdir(directory, 0o700)
            except FileExistsError:
                pass
            except OSError as err:
                raise HandoffError('ERR_CHANNEL_FAILED', 'cannot create %s: %s' % (directory, err))
            _check_private_directory(directory, 'ERR_CHANNEL_FAILED')
        try:
            self._lock = os.open(self.path + '.lock', os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as err:
            raise HandoffError('ERR_CHANNEL_FAILED', 'cannot open %s.lock: %s' % (self.path, err))
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # flock(2), never lockf/fcntl locks
        except BlockingIOError:
            os.close(self._lock)
            raise HandoffError('ERR_CHANNEL_IN_USE', 'another receiver is listening on %s' % self.path)
        except OSError as err:
            os.close(self._lock)
            raise HandoffError('ERR_CHANNEL_FAILED', 'cannot lock %s.lock: %s' % (self.path, err))
        self._listener = None
        try:
            try:
                if not stat.S_ISSOCK(os.lstat(self.path).st_mode):
                    raise HandoffError('ERR_CHANNEL_FAILED', '%s exists and is not a socket; not touching it' % self.path)
                os.unlink(self.path)  # with the lock held, a socket file here belongs to a dead receiver
            except FileNotFoundError:
                pass
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._listener.bind(self.path)
                os.chmod(self.path, 0o600)
                self._listener.listen(511)
            except OSError as err:
                raise HandoffError('ERR_CHANNEL_FAILED', 'cannot listen on %s: %s' % (self.path, err))
            self._inode = os.stat(self.path).st_ino
            self._selector = selectors.DefaultSelector()
            self._selector.register(self._listener, selectors.EVENT_READ)
        except BaseException:
            if self._listener is not None:
                self._listener.close()
            os.close(self._lock)
            raise

    def fileno(self):
        return self._listener.fileno()

    def serve_forever(self):
        while self._listener is not None:
            self.serve_once(None)

    def serve_once(self, timeout=None):
        """Waits up to `timeout` seconds for activity and handles it."""
        now = time.monotonic()
        deadlines = [p.deadline for p in self.peers.values() if p.deadline] + [p.closing_until for p in self.peers.values() if p.closing_until]
        if deadlines:
            wait = max(0.0, min(deadlines) - now)
            timeout = wait if timeout is None else min(timeout, wait)
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self._listener:
                self._accept()
            elif key.fileobj.fileno() in self.peers:
                self._read(self.peers[key.fileobj.fileno()])
        now = time.monotonic()
        for peer in list(self.peers.values()):
            if peer.closing_until and now >= peer.closing_until:
                self._drop(peer)
            elif peer.deadline and now >= peer.deadline:
                self._refuse(peer, HandoffError('ERR_HANDSHAKE_TIMEOUT', 'the sender did not finish the handshake within %g s' % self.handshake_timeout))

    def close(self):
        """Stops listening and disconnects every sender; sockets held without commit are closed."""
        for peer in list(self.peers.values()):
            self._drop(peer)
        if self._listener is None:
            return
        self._selector.close()
        self._listener.close()
        self._listener = None
        try:
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        except OSError:
            pass
        os.close(self._lock)  # the .lock file stays

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _accept(self):
        try:
            sock, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:  # EMFILE and the like: try again later
            self.on_error(HandoffError('ERR_CHANNEL_FAILED', 'accept: %s' % err), None)
            time.sleep(0.1)
            return
        pid, uid, _ = _peer_credentials(sock)
        sock.settimeout(self.write_timeout)  # reads only follow select(); this bounds a write
        peer = _Peer(_Connection(sock, self.max_frame_size), pid, uid)
        self.peers[sock.fileno()] = peer
        self._selector.register(sock, selectors.EVENT_READ)
        if uid != os.geteuid():
            self._refuse(peer, HandoffError('ERR_FOREIGN_UID', 'only senders running as uid %d may connect; this one (pid %d) runs as uid %d' % (os.geteuid(), pid, uid)))
            return
        peer.deadline = time.monotonic() + self.handshake_timeout
        self._send(peer, {'type': 'hello', 'role': 'receiver', 'versions': [PROTOCOL_VERSION], 'pid': os.getpid(),
                          'nonce': peer.nonce, 'secret': self.secret is not None})

    def _send(self, peer, message):
        try:
            peer.conn.send(message, self.max_frame_size)
        except OSError:
            # Gone, or not reading for write_timeout: drop it now (what it held is released, not used).
            self._release_all(peer)
            peer.deadline = None
            peer.closing_until = time.monotonic()

    def _refuse(self, peer, err):
        """Writes `error`, shuts the sending side, and drops the connection once the sender closes (1 s at most)."""
        if peer.closing_until:
            return
        self._send(peer, {'type': 'error', 'code': err.code, 'message': str(err).split(': ', 1)[-1]})
        self._release_all(peer)
        try:
            peer.conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        peer.deadline = None
        peer.closing_until = time.monotonic() + 1.0
        self.on_error(err, peer.sender_pid or peer.pid)

    def _release_all(self, peer):
        for sock, _ in peer.held.values():
            sock.close()  # close(): our copy only, never shutdown()
        peer.held.clear()

    def _drop(self, peer):
        self._release_all(peer)
        fd = peer.conn.sock.fileno()
        if fd >= 0:
            self._selector.unregister(peer.conn.sock)
            self.peers.pop(fd, None)
        peer.conn.close()

    def _read(self, peer):
        try:
            frames = peer.conn.read()
        except HandoffError as err:
            if peer.closing_until:
                return
            self._refuse(peer, err)
            return
        except OSError:
            frames = None
        if frames is None:  # EOF or a reset: sockets not committed are the sender's
            self._drop(peer)
            return
        for message, fds in frames:
            try:
                if peer.closing_until:
                    continue
                self._message(peer, message, fds)
            except HandoffError as err:
                self._refuse(peer, err)
            finally:
                _close_all(fds)  # whatever was not taken is closed, never leaked

    def _message(self, peer, msg, fds):
        if peer.sender_pid is None:
            self._hello(peer, msg)
            return
        kind = msg.get('type')
        if kind in ('commit', 'abort'):
            ident = _integer(msg.get('id'), 1, 2 ** 53 - 1)
            if ident is None:
                raise _malformed('%s.id must be a positive integer' % kind)
            entry = peer.held.pop(ident, None)
            if entry is None:
                return  # not held (never acknowledged, or released already): ignored
            sock, info = entry
            if kind == 'abort':
                sock.close()
                return
            self._deliver(peer, sock, info)
            return
        if kind != 'socket':
            raise HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected message type %s; expected "socket"' % json.dumps(kind))
        ident = _integer(msg.get('id'), 1, 2 ** 53 - 1)
        if ident is None:
            raise _malformed('socket.id must be a positive integer')
        if msg.get('kind') not in ('socket', 'server'):
            raise _malformed('socket.kind must be "socket" or "server"')
        if 'token' in msg and not isinstance(msg['token'], str):
            raise _malformed('socket.token must be a string')
        if 'mapping' in msg and not isinstance(msg['mapping'], str):
            raise _malformed('socket.mapping must be a string')
        head = msg.get('head')
        if 'head' in msg and (not isinstance(head, str) or not _BASE64.match(head)):
            raise _malformed('socket.head must be base64')
        if 'halfOpen' in msg and not isinstance(msg['halfOpen'], bool):
            raise _malformed('socket.halfOpen must be a boolean')
        self._hold(peer, ident, msg, fds)

    def _hello(self, peer, msg):
        if msg.get('type') != 'hello' or msg.get('role') != 'sender':
            raise _malformed('expected the sender hello')
        version = _integer(msg.get('version'), -float('inf'), float('inf'))
        if version is None:
            raise _malformed('hello.version must be an integer')
        if version != PROTOCOL_VERSION:
            raise HandoffError('ERR_UNSUPPORTED_VERSION', 'protocol version %s is not supported; this receiver speaks %d' % (version, PROTOCOL_VERSION))
        pid = _integer(msg.get('pid'), 1, 0xffffffff)
        if pid is None:
            raise _malformed('hello.pid must be a positive 32-bit integer')
        if 'proof' in msg and not isinstance(msg['proof'], str):
            raise _malformed('hello.proof must be a string')
        if pid != peer.pid:
            raise HandoffError('ERR_PID_MISMATCH', 'the sender says it is pid %d, the OS says %d' % (pid, peer.pid))
        if self.secret is not None:
            expected = hmac.new(self.secret.encode('utf-8'), peer.nonce.encode('utf-8'), hashlib.sha256).hexdigest()
            if not isinstance(msg.get('proof'), str) or not hmac.compare_digest(msg['proof'].encode('utf-8'), expected.encode('ascii')):
                raise HandoffError('ERR_CHANNEL_AUTH', 'the sender does not know the secret')
        peer.sender_pid = pid
        peer.deadline = None
        self._send(peer, {'type': 'ready'})

    def _hold(self, peer, ident, msg, fds):
        def nack(code, message):
            self._send(peer, {'type': 'nack', 'id': ident, 'code': code, 'message': message})

        if ident in peer.held:
            return nack('ERR_MALFORMED_FRAME', 'hand-off id %d is already in use on this connection' % ident)
        info = {'id': ident, 'pid': peer.sender_pid, 'meta': msg.get('meta'), 'head': base64.b64decode(msg.get('head') or ''),
                'half_open': msg.get('halfOpen') is True, 'listening': False}
        if self.accept is not None:
            try:
                accepted = self.accept(info) is not False
            except Exception as err:
                accepted = False
                self.on_error(HandoffError('ERR_ONSOCKET_THREW', 'accept raised: %r' % err), peer.sender_pid)
            if not accepted:
                return nack('ERR_HANDOFF_DECLINED', 'the receiver declined this socket')
        taken = self._take(ident, msg, fds, nack)
        if taken is None:
            return
        sock, info['listening'] = taken
        peer.held[ident] = (sock, info)
        self._send(peer, {'type': 'ack', 'id': ident})

    def _deliver(self, peer, sock, info):
        """Commit: the socket is the application's now."""
        try:
            self.on_socket(sock, info)
        except Exception as err:
            self.on_error(HandoffError('ERR_ONSOCKET_THREW', 'on_socket raised: %r' % err), peer.sender_pid)

    def _take(self, ident, msg, fds, nack):
        """The socket a frame carries, as (sock, listening); None once it is nacked (nothing kept open)."""
        if None in fds:
            return nack('ERR_RECEIVER_BUSY', 'the receiver could not take the descriptor in (MSG_CTRUNC: it is at its descriptor limit)')
        if len(fds) != 1:
            return nack('ERR_NO_DESCRIPTOR', 'a socket frame must carry exactly one descriptor (SCM_RIGHTS on its first byte); hand-off %d carried %d' % (ident, len(fds)))
        fd = fds.pop()
        try:
            sock = socket.socket(fileno=fd)
        except OSError as err:
            os.close(fd)
            return nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'the descriptor received is not a socket (%s); it was closed' % err)
        try:
            family = sock.getsockopt(socket.SOL_SOCKET, _SO_DOMAIN)
            kind = sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)
            listening = sock.getsockopt(socket.SOL_SOCKET, _SO_ACCEPTCONN) != 0
        except OSError as err:
            sock.close()
            return nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'getsockopt failed: %s' % err)
        if family not in (socket.AF_INET, socket.AF_INET6) or kind != socket.SOCK_STREAM:
            sock.close()
            return nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'the channel carries IPv4 and IPv6 stream sockets; this one has family %d, type %d' % (family, kind))
        if listening and not self.listeners:
            sock.close()
            return nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'this receiver takes connections only; this socket is listening')
        # Report the mode the descriptor really has (Python assumes blocking for a fileno it is given).
        if fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK:
            sock.setblocking(False)
        return sock, listening


def receive(name, on_socket, **options):
    """Listens on channel `name` and serves senders until interrupted (see Receiver for options)."""
    with Receiver(name, on_socket, **options) as receiver:
        receiver.serve_forever()


# ---------------------------------------------------------------------------------------------
# Sender
# ---------------------------------------------------------------------------------------------

class Sender:
    """A connection to one receiver. send() hands one socket over and returns its id once the
    receiver has it; the caller's socket is then closed (unless keep_open)."""

    def __init__(self, name, secret=None, connect_timeout=5.0, ack_timeout=10.0, max_frame_size=MAX_FRAME_SIZE):
        self.path = channel_path(name)
        self.ack_timeout = ack_timeout
        self.max_frame_size = max_frame_size
        self._next_id = 1
        self._closed = None
        self._frames = []
        if not name.startswith('/'):
            _check_private_directory(os.path.dirname(self.path), 'ERR_CHANNEL_UNAVAILABLE')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            try:
                sock.connect(self.path)
            except OSError as err:
                if err.errno in _UNREACHABLE:
                    raise HandoffError('ERR_CHANNEL_UNAVAILABLE', 'cannot reach a receiver on %s: %s' % (self.path, err))
                raise
            _, uid, _ = _peer_credentials(sock)
            if uid != os.geteuid():
                raise HandoffError('ERR_FOREIGN_UID', 'the receiver on %s runs as uid %d, not as this process\'s uid %d' % (self.path, uid, os.geteuid()))
            self._conn = _Connection(sock, max_frame_size)
            self.receiver_pid = self._handshake(secret, time.monotonic() + connect_timeout)
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise

    def _next_message(self, deadline, timeout_error):
        while not self._frames:
            left = deadline - time.monotonic()
            if left <= 0:
                raise timeout_error()
            self._conn.sock.settimeout(left)
            try:
                frames = self._conn.read()
            except socket.timeout:
                raise timeout_error()
            except OSError:
                frames = None
            if frames is None:
                raise HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel')
            for message, fds in frames:
                if fds:
                    _close_all(fds)
                    raise HandoffError('ERR_UNEXPECTED_MESSAGE', 'a receiver never sends a socket frame')
                self._frames.append(message)
        return self._frames.pop(0)

    def _handshake(self, secret, deadline):
        def timeout():
            return HandoffError('ERR_HANDSHAKE_TIMEOUT', 'no handshake from a receiver on %s in time' % self.path)

        try:
            hello = self._next_message(deadline, timeout)
        except HandoffError as err:
            if err.code == 'ERR_RECEIVER_GONE':
                raise HandoffError('ERR_CHANNEL_UNAVAILABLE', 'the receiver on %s closed the connection during the handshake' % self.path)
            raise
        if hello.get('type') == 'error':
            raise HandoffError(hello.get('code') if isinstance(hello.get('code'), str) else 'ERR_MALFORMED_FRAME', 'the receiver refused: %s' % hello.get('message'))
        if hello.get('type') != 'hello' or hello.get('role') != 'receiver':
            raise _malformed('expected the receiver hello')
        versions = hello.get('versions')
        if not isinstance(versions, list) or any(_integer(v, -float('inf'), float('inf')) is None for v in versions):
            raise _malformed('hello.versions must be an array of integers')
        pid = _integer(hello.get('pid'), 1, 0xffffffff)
        if pid is None:
            raise _malformed('hello.pid must be a positive 32-bit integer')
        if not isinstance(hello.get('nonce'), str) or len(hello['nonce']) > 128:
            raise _malformed('hello.nonce must be a short string')
        if not isinstance(hello.get('secret'), bool):
            raise _malformed('hello.secret must be a boolean')
        if PROTOCOL_VERSION not in [_integer(v, -float('inf'), float('inf')) for v in versions]:
            raise HandoffError('ERR_UNSUPPORTED_VERSION', 'receiver speaks protocol versions %s; this sender speaks %d' % (json.dumps(versions), PROTOCOL_VERSION))
        if hello['secret'] and secret is None:
            raise HandoffError('ERR_CHANNEL_AUTH', 'the receiver on %s requires a secret' % self.path)
        answer = {'type': 'hello', 'role': 'sender', 'version': PROTOCOL_VERSION, 'pid': os.getpid()}
        if hello['secret']:
            answer['proof'] = hmac.new(secret.encode('utf-8'), hello['nonce'].encode('utf-8'), hashlib.sha256).hexdigest()
        self._conn.send(answer, self.max_frame_size)
        reply = self._next_message(deadline, timeout)
        kind = reply.get('type')
        if kind == 'error':
            raise HandoffError(reply.get('code') if isinstance(reply.get('code'), str) else 'ERR_MALFORMED_FRAME', 'the receiver refused this sender: %s' % reply.get('message'))
        if kind != 'ready':
            raise HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected %s during the handshake' % json.dumps(kind))
        return pid

    def _fail(self, err):
        """The channel is unusable: close it and remember why."""
        if self._closed is None:
            self._closed = err
            self._conn.close()
        return err

    def send(self, sock, head=b'', meta=None, keep_open=False):
        """Hands `sock` (a connected or listening TCP socket.socket) to the receiver.

        Returns the hand-off id once the receiver acknowledged it and `commit` is written; `sock`
        is closed then (close(), never shutdown()) unless keep_open. Raises HandoffError and leaves
        `sock` open and yours on ERR_HANDOFF_REFUSED (err.reason: the receiver's code),
        ERR_HANDOFF_TIMEOUT, ERR_RECEIVER_GONE, ERR_CHANNEL_CLOSED, or a receiver's `error` code."""
        if self._closed is not None:
            raise HandoffError('ERR_CHANNEL_CLOSED', 'this sender is closed (%s)' % self._closed)
        if isinstance(head, str):
            head = head.encode('utf-8')
        fd = sock.fileno()
        if fd < 0:
            raise HandoffError('ERR_SOCKET_CLOSED', 'the socket is closed')
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            raise HandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', 'the channel carries IPv4 and IPv6 stream sockets')
        listening = sock.getsockopt(socket.SOL_SOCKET, _SO_ACCEPTCONN) != 0
        if not listening:
            try:
                sock.getpeername()
            except OSError:
                raise HandoffError('ERR_NOT_CONNECTED', 'the socket is neither connected nor listening')
        ident = self._next_id
        self._next_id += 1
        message = {'type': 'socket', 'id': ident, 'kind': 'server' if listening else 'socket'}
        if head:
            message['head'] = base64.b64encode(bytes(head)).decode('ascii')
        if meta is not None:
            message['meta'] = meta
        data = _encode(message, self.max_frame_size)
        channel = self._conn.sock
        try:
            channel.settimeout(None)
            sent = socket.send_fds(channel, [data], [fd])  # one sendmsg(): SCM_RIGHTS on the first byte
            channel.sendall(data[sent:])  # the rest, if any, without a descriptor
        except OSError as err:
            raise self._fail(HandoffError('ERR_RECEIVER_GONE', 'cannot write to the receiver: %s' % err))
        return self._await_answer(sock, ident, keep_open)

    def _await_answer(self, sock, ident, keep_open):
        deadline = time.monotonic() + self.ack_timeout

        def timeout():
            return HandoffError('ERR_HANDOFF_TIMEOUT', 'the receiver did not answer hand-off %d within %g s' % (ident, self.ack_timeout))

        while True:
            try:
                reply = self._next_message(deadline, timeout)
            except HandoffError as err:
                if err.code == 'ERR_HANDOFF_TIMEOUT':
                    try:
                        self._conn.send({'type': 'abort', 'id': ident})  # the receiver drops its copy
                    except OSError:
                        self._fail(HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel'))
                    raise
                raise self._fail(err)
            kind = reply.get('type')
            if kind == 'error':
                code = reply.get('code') if isinstance(reply.get('code'), str) else 'ERR_MALFORMED_FRAME'
                raise self._fail(HandoffError(code, 'the receiver closed the channel: %s' % reply.get('message')))
            if kind == 'ready':
                continue
            if kind not in ('ack', 'nack'):
                raise self._fail(HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected message type %s from the receiver' % json.dumps(kind)))
            answered = _integer(reply.get('id'), 1, 2 ** 53 - 1)
            if answered is None or (kind == 'nack' and not (isinstance(reply.get('code'), str) and isinstance(reply.get('message'), str))):
                raise self._fail(_malformed('%s needs id%s' % (kind, ', code and message' if kind == 'nack' else '')))
            if answered != ident:
                continue  # a late answer to a hand-off already aborted
            if kind == 'nack':
                raise HandoffError('ERR_HANDOFF_REFUSED', 'the receiver refused the socket: %s: %s' % (reply['code'], reply['message']), reason=reply['code'])
            try:
                self._conn.send({'type': 'commit', 'id': ident})
            except OSError:
                raise self._fail(HandoffError('ERR_RECEIVER_GONE', 'the receiver went away before hand-off %d was committed' % ident))
            if not keep_open:
                sock.close()
            return ident

    def close(self):
        self._fail(HandoffError('ERR_CHANNEL_CLOSED', 'the sender was closed'))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------------------------------------
# Windows (UNTESTED here: no Windows Python runs in this project's tests). Named pipe + tokens.
# ---------------------------------------------------------------------------------------------

_WSA_NAMES = {10004: 'WSAEINTR', 10013: 'WSAEACCES', 10014: 'WSAEFAULT', 10022: 'WSAEINVAL', 10024: 'WSAEMFILE',
              10038: 'WSAENOTSOCK', 10041: 'WSAEPROTOTYPE', 10043: 'WSAEPROTONOSUPPORT', 10044: 'WSAESOCKTNOSUPPORT',
              10047: 'WSAEAFNOSUPPORT', 10050: 'WSAENETDOWN', 10055: 'WSAENOBUFS', 10105: 'WSAEINVALIDPROVIDER'}
_TOKEN_SIZE = 628
_WAIT = 200  # ms between checks for close() and deadlines


class _PipeConnection:
    """Frames over an overlapped pipe handle; read(timeout) gives [(message, [])], [] on timeout, None on EOF."""

    def __init__(self, handle, max_size):
        self.handle = handle
        self.decoder = _Decoder(max_size)

    def read(self, timeout):
        import _winapi
        try:
            ov, err = _winapi.ReadFile(self.handle, READ_SIZE, overlapped=True)
            if err == _winapi.ERROR_IO_PENDING:
                ms = _winapi.INFINITE if timeout is None else max(0, int(timeout * 1000))
                if _winapi.WaitForMultipleObjects([ov.event], False, ms) == _winapi.WAIT_TIMEOUT:
                    ov.cancel()
                    try:
                        ov.GetOverlappedResult(True)
                    except OSError:
                        pass
                    data = ov.getbuffer()
                    return [(m, []) for _, m in self.decoder.push(bytes(data))] if data else []
            ov.GetOverlappedResult(True)
        except OSError:  # ERROR_BROKEN_PIPE and the like: the other end is gone
            return None
        data = bytes(ov.getbuffer())
        if not data:
            return None
        return [(m, []) for _, m in self.decoder.push(data)]

    def send(self, message, max_size=MAX_FRAME_SIZE):
        import _winapi
        data = _encode(message, max_size)
        while data:
            ov, _ = _winapi.WriteFile(self.handle, data, overlapped=True)
            written, _ = ov.GetOverlappedResult(True)
            data = data[written:]

    def close(self):
        import _winapi
        try:
            _winapi.CloseHandle(self.handle)
        except OSError:
            pass


def _client_pid(handle):
    import ctypes
    from ctypes import wintypes
    pid = wintypes.ULONG()
    get = ctypes.windll.kernel32.GetNamedPipeClientProcessId
    get.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.ULONG)]
    if not get(handle, ctypes.byref(pid)):
        raise HandoffError('ERR_CHANNEL_FAILED', 'GetNamedPipeClientProcessId failed')
    return pid.value


class _PipeReceiver(Receiver):
    """Receiver over \\\\.\\pipe\\<name>: one thread accepts, one thread per sender. on_socket runs
    under one lock, so calls never overlap. PIPE_REJECT_REMOTE_CLIENTS keeps other computers out."""

    def __init__(self, name, on_socket, secret=None, accept=None, listeners=True, handshake_timeout=5.0,
                 max_frame_size=MAX_FRAME_SIZE, on_error=_report, write_timeout=None):
        import _winapi
        self.path = channel_path(name)
        self.on_socket, self.secret, self.accept, self.listeners = on_socket, secret, accept, listeners
        self.handshake_timeout, self.max_frame_size, self.on_error = handshake_timeout, max_frame_size, on_error
        self._stop = threading.Event()
        self._app = threading.Lock()
        try:
            self._next = self._instance(first=True)
        except OSError as err:
            code = 'ERR_CHANNEL_IN_USE' if getattr(err, 'winerror', None) in (5, 231) else 'ERR_CHANNEL_FAILED'
            raise HandoffError(code, 'cannot listen on %s: %s' % (self.path, err))
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        self._winapi = _winapi

    def _instance(self, first=False):
        import _winapi
        flags = _winapi.PIPE_ACCESS_DUPLEX | _winapi.FILE_FLAG_OVERLAPPED | (_winapi.FILE_FLAG_FIRST_PIPE_INSTANCE if first else 0)
        mode = _winapi.PIPE_TYPE_BYTE | _winapi.PIPE_READMODE_BYTE | _winapi.PIPE_WAIT | 0x8  # PIPE_REJECT_REMOTE_CLIENTS
        return _winapi.CreateNamedPipe(self.path, flags, mode, _winapi.PIPE_UNLIMITED_INSTANCES, 65536, 65536, 0, _winapi.NULL)

    def _accept_loop(self):
        import _winapi
        while not self._stop.is_set():
            handle = self._next
            ov = _winapi.ConnectNamedPipe(handle, overlapped=True)
            while not self._stop.is_set():
                if _winapi.WaitForMultipleObjects([ov.event], False, _WAIT) != _winapi.WAIT_TIMEOUT:
                    break
            if self._stop.is_set():
                ov.cancel()
                _winapi.CloseHandle(handle)
                return
            try:
                ov.GetOverlappedResult(True)
            except OSError:
                pass  # ERROR_PIPE_CONNECTED is success too
            self._next = self._instance()
            threading.Thread(target=self._serve_pipe, args=(handle,), daemon=True).start()

    def _serve_pipe(self, handle):
        conn = _PipeConnection(handle, self.max_frame_size)
        peer = _Peer(conn, _client_pid(handle), None)
        deadline = time.monotonic() + self.handshake_timeout
        try:
            conn.send({'type': 'hello', 'role': 'receiver', 'versions': [PROTOCOL_VERSION], 'pid': os.getpid(),
                       'nonce': peer.nonce, 'secret': self.secret is not None}, self.max_frame_size)
            while not self._stop.is_set():
                wait = _WAIT / 1000 if peer.sender_pid else min(_WAIT / 1000, max(0.0, deadline - time.monotonic()))
                try:
                    frames = conn.read(wait)
                except HandoffError as err:
                    return self._refuse_pipe(peer, err)
                if frames is None:
                    return
                if peer.sender_pid is None and time.monotonic() >= deadline and not frames:
                    return self._refuse_pipe(peer, HandoffError('ERR_HANDSHAKE_TIMEOUT', 'the sender did not finish the handshake within %g s' % self.handshake_timeout))
                for message, _ in frames:
                    try:
                        self._message(peer, message, [])
                    except HandoffError as err:
                        return self._refuse_pipe(peer, err)
        finally:
            self._release_all(peer)
            conn.close()

    def _refuse_pipe(self, peer, err):
        try:
            peer.conn.send({'type': 'error', 'code': err.code, 'message': str(err).split(': ', 1)[-1]})
        except OSError:
            pass
        self.on_error(err, peer.sender_pid or peer.pid)

    def _send(self, peer, message):
        peer.conn.send(message)

    def _deliver(self, peer, sock, info):
        with self._app:
            super()._deliver(peer, sock, info)

    def _take(self, ident, msg, fds, nack):
        token = msg.get('token')
        if not isinstance(token, str):
            return nack('ERR_MALFORMED_FRAME', 'socket.token must be a string')
        raw = base64.b64decode(token) if _BASE64.match(token.strip()) else b''
        if len(raw) != _TOKEN_SIZE:
            return nack('ERR_INVALID_TOKEN', 'the token is not base64 of %d bytes' % _TOKEN_SIZE)
        try:
            sock = socket.fromshare(raw)
        except OSError as err:
            number = getattr(err, 'winerror', None) or err.errno or 0
            if number in (10024, 10055):
                return nack('ERR_RECEIVER_BUSY', 'the receiver is out of resources: %s' % err)
            return nack(_WSA_NAMES.get(number, 'WIN32_ERROR_%d' % number), 'WSASocketW: %s' % err)
        listening = sock.getsockopt(socket.SOL_SOCKET, _SO_ACCEPTCONN) != 0
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM or (listening and not self.listeners):
            sock.close()
            return nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'the channel carries TCP sockets (and this receiver %s listeners)' % ('takes' if self.listeners else 'no'))
        return sock, listening

    def serve_once(self, timeout=None):
        self._stop.wait(timeout)

    def serve_forever(self):
        while not self._stop.is_set():
            self._stop.wait(1.0)

    def close(self):
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()

    def fileno(self):
        raise HandoffError('ERR_UNSUPPORTED_PLATFORM', 'a Windows receiver has no descriptor to select on')


class _PipeSender(Sender):
    """Sender over \\\\.\\pipe\\<name>; each socket travels as base64(sock.share(receiver_pid))."""

    def __init__(self, name, secret=None, connect_timeout=5.0, ack_timeout=10.0, max_frame_size=MAX_FRAME_SIZE):
        import _winapi
        self.path = channel_path(name)
        self.ack_timeout, self.max_frame_size = ack_timeout, max_frame_size
        self._next_id, self._closed, self._frames = 1, None, []
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                handle = _winapi.CreateFile(self.path, _winapi.GENERIC_READ | _winapi.GENERIC_WRITE, 0, _winapi.NULL,
                                            _winapi.OPEN_EXISTING, _winapi.FILE_FLAG_OVERLAPPED, _winapi.NULL)
                break
            except OSError as err:
                if getattr(err, 'winerror', None) == 231 and time.monotonic() < deadline:  # ERROR_PIPE_BUSY
                    _winapi.WaitNamedPipe(self.path, max(1, int((deadline - time.monotonic()) * 1000)))
                    continue
                raise HandoffError('ERR_CHANNEL_UNAVAILABLE', 'cannot reach a receiver on %s: %s' % (self.path, err))
        self._conn = _PipeConnection(handle, max_frame_size)
        try:
            self.receiver_pid = self._handshake(secret, deadline)
        except BaseException:
            self._conn.close()
            raise

    def _next_message(self, deadline, timeout_error):
        while not self._frames:
            left = deadline - time.monotonic()
            if left <= 0:
                raise timeout_error()
            frames = self._conn.read(left)
            if frames is None:
                raise HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel')
            self._frames.extend(m for m, _ in frames)
        return self._frames.pop(0)

    def send(self, sock, head=b'', meta=None, keep_open=False):
        if self._closed is not None:
            raise HandoffError('ERR_CHANNEL_CLOSED', 'this sender is closed (%s)' % self._closed)
        if isinstance(head, str):
            head = head.encode('utf-8')
        listening = sock.getsockopt(socket.SOL_SOCKET, _SO_ACCEPTCONN) != 0
        ident = self._next_id
        self._next_id += 1
        message = {'type': 'socket', 'id': ident, 'kind': 'server' if listening else 'socket',
                   'token': base64.b64encode(sock.share(self.receiver_pid)).decode('ascii')}
        if head:
            message['head'] = base64.b64encode(bytes(head)).decode('ascii')
        if meta is not None:
            message['meta'] = meta
        try:
            self._conn.send(message, self.max_frame_size)
        except OSError as err:
            raise self._fail(HandoffError('ERR_RECEIVER_GONE', 'cannot write to the receiver: %s' % err))
        return self._await_answer(sock, ident, keep_open)


if _WINDOWS:
    Receiver = _PipeReceiver  # noqa: F811
    Sender = _PipeSender  # noqa: F811


def open_sender(name, **options):
    """Connects to the receiver on channel `name` and does the handshake. Options: secret,
    connect_timeout (s), ack_timeout (s), max_frame_size. Raises HandoffError:
    ERR_CHANNEL_UNAVAILABLE, ERR_FOREIGN_UID, ERR_CHANNEL_AUTH, ERR_UNSUPPORTED_VERSION,
    ERR_HANDSHAKE_TIMEOUT, ERR_PID_MISMATCH and the receiver's other `error` codes."""
    return Sender(name, **options)
