<?php
/**
 * socket-handoff channel peer for PHP 8.1+ with the sockets extension. Linux: no other dependency.
 * Windows (written from docs/protocol.md, never run: see the Windows section at the end): the
 * named pipe \\.\pipe\<name> through the FFI extension, and sockets in the mapping form with PHP's
 * own socket_wsaprotocol_info_export/_import/_release.
 *
 * Speaks protocol version 1 of docs/protocol.md with a Node.js (or any other) peer:
 *
 *     require 'SocketHandoff.php';
 *     use SocketHandoff\Receiver;
 *
 *     SocketHandoff\receive('my-workers', function (Socket $socket, array $info) {
 *         $request = $info['head'] . socket_read($socket, 4096);   // head first
 *         ...
 *     });
 *
 *     $sender = SocketHandoff\open_sender('my-workers');
 *     $sender->send($conn, head: $alreadyRead, meta: ['route' => '/']);   // $conn is closed here
 *
 * Rules kept (docs/protocol.md): both ends check the other's uid, the receiver checks the
 * sender's pid, holds an exclusive flock on <path>.lock while it listens, acknowledges a socket
 * only once it holds a valid copy, and adopts it only on `commit`. A sender closes its copy only
 * after writing `commit`; on `nack`, a timeout or a receiver that went away, send() throws
 * HandoffError and the caller still owns the socket. Every descriptor received and not adopted is
 * closed.
 *
 * PHP's traps, worked around here (docs/interop.md):
 *  - PHP 8.0-8.2's socket_sendmsg() sends the wrong descriptor (the sender's fd 0) for a Socket
 *    object in SCM_RIGHTS; a stream from socket_export_stream() sends the right one.
 *  - socket_get_option(SO_PEERCRED) gives only the pid; the uid is read from /proc/<pid>/status
 *    (its effective uid, as SO_PEERCRED would report). The pid is the one the kernel recorded at
 *    connect(); if that process exited and its pid was reused before the check, /proc describes
 *    another process.
 *  - SO_DOMAIN (39), SO_ACCEPTCONN (30) and SO_PEERCRED (17) have no constants; their Linux
 *    values are used.
 *  - socket_recvmsg() reports its errno only through socket_last_error().
 *  - Descriptors are shared with the sender, file status flags included: a socket from Node
 *    arrives non-blocking. Call socket_set_block() yourself for a connection once you have it;
 *    never for a listener the sender kept open.
 *
 * And on Windows (docs/interop.md, "The PHP peer on Windows"):
 *  - PHP cannot serve a named pipe nor wait on one with a timeout: the pipe is driven through FFI
 *    (PIPE_NOWAIT, polled every 5 ms with PeekNamedPipe).
 *  - socket_wsaprotocol_info_import() marks the socket blocking without asking the OS; the
 *    receiver makes a connection blocking on commit, so that PHP's word is true.
 *  - socket_wsaprotocol_info_export/_import report failures only as warnings ("[0x%08lx]"), never
 *    through socket_last_error(); the code is read from error_get_last().
 *  - PHP names every mapping php_wsa_for_<n>, <n> counting from 0 in every process, and writes
 *    into an existing mapping of that name: exports are serialised across PHP processes by a lock
 *    file, held until the release.
 */

declare(strict_types=1);

namespace SocketHandoff;

const PROTOCOL_VERSION = 1;
const MAX_FRAME_SIZE = 1048576;
const MAX_DESCRIPTORS_PER_READ = 8;
const SUN_PATH_MAX = 107;
const READ_SIZE = 65536;
const SO_PEERCRED = 17;
const SO_ACCEPTCONN = 30;
const SO_DOMAIN = 39;
const MAX_ID = 9007199254740991;
const BASE64 = '~^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$~D';

/** An error with a stable code from docs/errors.md; `reason` is the receiver's code for ERR_HANDOFF_REFUSED. */
class HandoffError extends \RuntimeException
{
    public function __construct(public readonly string $errorCode, string $message, public readonly ?string $reason = null)
    {
        parent::__construct("$errorCode: $message");
    }

    public function text(): string
    {
        return substr($this->getMessage(), strlen($this->errorCode) + 2);
    }
}

function malformed(string $what): HandoffError
{
    return new HandoffError('ERR_MALFORMED_FRAME', $what);
}

// ------------------------------------------------------------------------------------------------
// Where the channel lives
// ------------------------------------------------------------------------------------------------

function effective_uid(): int
{
    if (function_exists('posix_geteuid')) return posix_geteuid();
    return proc_uid('self') ?? throw new HandoffError('ERR_CHANNEL_FAILED', 'cannot read this process\'s uid');
}

/** The effective uid of process `pid` from /proc/<pid>/status ("Uid: real effective saved fs"). */
function proc_uid(string $pid): ?int
{
    $status = @file_get_contents("/proc/$pid/status");
    if ($status === false || !preg_match('/^Uid:\s+\d+\s+(\d+)/m', $status, $m)) return null;
    return (int)$m[1];
}

/** POSIX path normalisation as the Node side does it (path.join): '//' and '.' go, 'x/..' cancels. */
function normalize(string $path): string
{
    $absolute = str_starts_with($path, '/');
    $out = [];
    foreach (explode('/', $path) as $seg) {
        if ($seg === '' || $seg === '.') continue;
        if ($seg === '..') {
            if ($out && end($out) !== '..') array_pop($out);
            elseif (!$absolute) $out[] = '..';
            continue;
        }
        $out[] = $seg;
    }
    $joined = implode('/', $out);
    return $absolute ? "/$joined" : ($joined === '' ? '.' : $joined);
}

/** $XDG_RUNTIME_DIR/socket-handoff if set to an absolute path, else <TMPDIR|TMP|TEMP|/tmp>/socket-handoff-<euid>. Not sys_get_temp_dir(). */
function runtime_directory(): string
{
    $xdg = (string)getenv('XDG_RUNTIME_DIR');
    if (str_starts_with($xdg, '/')) return normalize("$xdg/socket-handoff");
    $tmp = '/tmp';
    // Like Node, a process whose real and effective ids differ does not trust these variables.
    $status = (string)@file_get_contents('/proc/self/status');
    $trusted = !preg_match('/^Uid:\s+(\d+)\s+(\d+)/m', $status, $u) || !preg_match('/^Gid:\s+(\d+)\s+(\d+)/m', $status, $g)
        || ($u[1] === $u[2] && $g[1] === $g[2]);
    foreach ($trusted ? ['TMPDIR', 'TMP', 'TEMP'] : [] as $var) {
        $value = getenv($var);
        if (is_string($value) && $value !== '') { $tmp = $value; break; }
    }
    if (strlen($tmp) > 1 && str_ends_with($tmp, '/')) $tmp = substr($tmp, 0, -1);
    return normalize($tmp . '/socket-handoff-' . effective_uid());
}

/** The socket path of channel `name` (an absolute path is used as it is); on Windows its pipe (pipe_path()). */
function channel_path(string $name): string
{
    if (PHP_OS_FAMILY === 'Windows') return pipe_path($name);
    if ($name === '') throw new HandoffError('ERR_INVALID_ARG_VALUE', 'name must be a non-empty string');
    if (str_starts_with($name, '/')) {
        $path = $name;
    } elseif (!preg_match('/^[A-Za-z0-9._-]{1,80}$/D', $name) || $name === '.' || $name === '..') {
        throw new HandoffError('ERR_INVALID_ARG_VALUE', 'a channel name is 1 to 80 letters, digits, ".", "_" or "-" (not "." or ".."), or an absolute path');
    } else {
        $path = normalize(runtime_directory() . "/$name.sock");
    }
    if (strlen($path) > SUN_PATH_MAX || str_contains($path, "\0")) {
        throw new HandoffError('ERR_INVALID_ARG_VALUE', sprintf('a socket path of 1 to %d bytes without NUL; %s has %d', SUN_PATH_MAX, $path, strlen($path)));
    }
    return $path;
}

function check_private_directory(string $dir, string $code): void
{
    clearstatcache(true, $dir);
    $st = @lstat($dir);
    if ($st === false) throw new HandoffError($code, "$dir: no such folder");
    if (($st['mode'] & 0170000) !== 0040000 || $st['uid'] !== effective_uid() || ($st['mode'] & 0022) !== 0) {
        throw new HandoffError($code, sprintf('%s is not a private folder of this user (owner uid %d, mode %o)', $dir, $st['uid'], $st['mode'] & 0777));
    }
}

function socket_error(string $call, ?\Socket $socket = null): string
{
    $errno = $socket ? socket_last_error($socket) : socket_last_error();
    return "$call: " . socket_strerror($errno) . " ($errno)";
}

/** The peer's pid (SO_PEERCRED: PHP gives only that) and its effective uid (from /proc). */
function peer_credentials(\Socket $socket): array
{
    $pid = socket_get_option($socket, SOL_SOCKET, SO_PEERCRED);
    if (!is_int($pid) || $pid <= 0) throw new HandoffError('ERR_CHANNEL_FAILED', socket_error('getsockopt SO_PEERCRED', $socket));
    $uid = proc_uid((string)$pid);
    return [$pid, $uid];
}

// ------------------------------------------------------------------------------------------------
// Frames
// ------------------------------------------------------------------------------------------------

function encode(array $message, int $maxSize = MAX_FRAME_SIZE): string
{
    $body = json_encode($message, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    if (strlen($body) > $maxSize) throw new HandoffError('ERR_FRAME_TOO_LARGE', sprintf('frame of %d bytes exceeds the limit of %d bytes', strlen($body), $maxSize));
    return pack('N', strlen($body)) . $body;
}

function parse_body(string $body): array
{
    if (str_starts_with($body, "\xEF\xBB\xBF")) $body = substr($body, 3); // the Node side skips a byte order mark too
    try {
        $value = json_decode($body, false, 512, JSON_THROW_ON_ERROR);
    } catch (\JsonException $e) {
        throw malformed('frame body is not UTF-8 JSON: ' . $e->getMessage());
    }
    if (!$value instanceof \stdClass) throw malformed('frame body is not a JSON object');
    return json_decode($body, true, 512, JSON_THROW_ON_ERROR);
}

/** A JSON number with an integer value in [low, high] (1.0 counts as 1), as an int; else null. */
function integer(mixed $value, int|float $low = -INF, int|float $high = INF): int|float|null
{
    if (is_float($value) && is_finite($value) && floor($value) === $value && abs($value) < 9.2e18) $value = (int)$value;
    if (!is_int($value) && !(is_float($value) && is_finite($value) && floor($value) === $value)) return null;
    return $value >= $low && $value <= $high ? $value : null;
}

/** The length of a string as JavaScript counts it (UTF-16 units). */
function utf16_length(string $s): int
{
    return (int)preg_match_all('/./us', $s) + (int)preg_match_all('/[\x{10000}-\x{10FFFF}]/u', $s);
}

function close_all(array $fds): void
{
    foreach ($fds as $fd) {
        if ($fd instanceof \Socket) socket_close($fd);
        elseif (is_resource($fd)) fclose($fd);
    }
}

/**
 * Frames and descriptors of one channel connection, with the binding rule of docs/protocol.md: a
 * descriptor belongs to the `socket` frame that starts within the bytes of the read it came with;
 * whole earlier frames in that read claim nothing.
 */
final class Connection
{
    private string $buffer = '';
    private int $consumed = 0;
    private int $received = 0;
    /** @var list<array{0: mixed, 1: int, 2: int}> descriptor (Socket or stream), start, end */
    private array $pending = [];

    public function __construct(public readonly \Socket $socket, private readonly int $maxSize)
    {
    }

    /** The frames this read completed, each [message, descriptors]; null on EOF. */
    public function read(): ?array
    {
        $msg = ['name' => [], 'buffer_size' => READ_SIZE, 'controllen' => socket_cmsg_space(SOL_SOCKET, SCM_RIGHTS, MAX_DESCRIPTORS_PER_READ)];
        $n = @socket_recvmsg($this->socket, $msg, MSG_CMSG_CLOEXEC);
        if ($n === false) {
            $errno = socket_last_error($this->socket);
            socket_clear_error($this->socket);
            if ($errno === SOCKET_EINTR || $errno === SOCKET_EAGAIN) return [];
            return null; // ECONNRESET and the like: the peer is gone
        }
        $fds = [];
        foreach ($msg['control'] ?? [] as $cmsg) {
            if ($cmsg['level'] === SOL_SOCKET && $cmsg['type'] === SCM_RIGHTS) array_push($fds, ...$cmsg['data']);
        }
        // MSG_CTRUNC with every slot filled: the peer attached too many. With slots to spare: this
        // process could not install a descriptor (its descriptor limit), bound like one that arrived.
        $lost = false;
        if (($msg['flags'] ?? 0) & MSG_CTRUNC) {
            if (count($fds) >= MAX_DESCRIPTORS_PER_READ) {
                close_all($fds);
                throw new HandoffError('ERR_DESCRIPTORS_TRUNCATED', 'the peer attached more descriptors than one message carries (at most ' . MAX_DESCRIPTORS_PER_READ . '); they were closed');
            }
            $lost = true;
        }
        $data = $n > 0 ? $msg['iov'][0] : '';
        if ($data === '') {
            close_all($fds);
            return null;
        }
        $start = $this->received;
        $this->received += strlen($data);
        foreach ($fds as $fd) $this->pending[] = [$fd, $start, $this->received];
        if ($lost) $this->pending[] = [null, $start, $this->received];
        $this->buffer .= $data;
        $out = [];
        try {
            while (strlen($this->buffer) >= 4) {
                $size = unpack('N', $this->buffer)[1];
                if ($size === 0) throw malformed('frame with an empty body');
                if ($size > $this->maxSize) throw new HandoffError('ERR_FRAME_TOO_LARGE', "frame of $size bytes exceeds the limit of {$this->maxSize} bytes");
                if (strlen($this->buffer) < 4 + $size) break;
                $frameStart = $this->consumed;
                $body = substr($this->buffer, 4, $size);
                $this->buffer = substr($this->buffer, 4 + $size);
                $this->consumed += 4 + $size;
                $message = parse_body($body);
                if ($this->pending && $this->pending[0][2] <= $frameStart) throw malformed('a descriptor arrived without a socket frame starting with it');
                $own = [];
                if (($message['type'] ?? null) === 'socket') {
                    while ($this->pending && $this->pending[0][1] <= $frameStart) $own[] = array_shift($this->pending)[0];
                }
                $out[] = [$message, $own];
            }
        } catch (HandoffError $e) {
            foreach ($out as [, $own]) close_all($own);
            throw $e;
        }
        return $out;
    }

    /** Writes all of `data`; false if the peer is gone. MSG_NOSIGNAL: a dead peer is EPIPE, not SIGPIPE. */
    public function write(string $data): bool
    {
        while ($data !== '') {
            $n = @socket_send($this->socket, $data, strlen($data), MSG_NOSIGNAL);
            if ($n === false) {
                $errno = socket_last_error($this->socket);
                socket_clear_error($this->socket);
                if ($errno === SOCKET_EINTR) continue;
                return false;
            }
            $data = substr($data, $n);
        }
        return true;
    }

    public function send(array $message, int $maxSize = MAX_FRAME_SIZE): bool
    {
        return $this->write(encode($message, $maxSize));
    }

    /** Half close: the peer reads what was written, then EOF. */
    public function endWrites(): void
    {
        @socket_shutdown($this->socket, 1);
    }

    public function close(): void
    {
        close_all(array_column($this->pending, 0));
        $this->pending = [];
        socket_close($this->socket);
    }
}

// ------------------------------------------------------------------------------------------------
// Receiver
// ------------------------------------------------------------------------------------------------

final class Peer
{
    public string $nonce;
    public ?int $senderPid = null;
    /** @var array<int, array{0: \Socket, 1: array}> */
    public array $held = [];
    public ?float $deadline = null;
    public ?float $closingUntil = null;

    public function __construct(public readonly Connection|Pipe $conn, public readonly int $pid, public readonly ?int $uid)
    {
        $this->nonce = base64_encode(random_bytes(16));
    }
}

/**
 * What both receivers (Unix socket, named pipe) do with a sender's frames once they are decoded:
 * the options, the hello, commit and abort, the checks of a `socket` frame and its acknowledgement,
 * say() (write a frame) and refuse(). The transport's own part of a hand-off is take().
 */
trait ServesSenders
{
    private $onSocket;
    private ?string $secret;
    private $accept;
    private bool $listeners;
    private float $handshakeTimeout;
    private float $writeTimeout;
    private int $maxFrameSize;
    private $onError;

    /** The options both receivers take (see UnixReceiver). */
    private function configure(callable $onSocket, array $options): void
    {
        $this->onSocket = $onSocket;
        $this->secret = $options['secret'] ?? null;
        $this->accept = $options['accept'] ?? null;
        $this->listeners = $options['listeners'] ?? true;
        $this->handshakeTimeout = (float)($options['handshake_timeout'] ?? 5.0);
        $this->writeTimeout = (float)($options['write_timeout'] ?? 5.0);
        $this->maxFrameSize = $options['max_frame_size'] ?? MAX_FRAME_SIZE;
        $this->onError = $options['on_error'] ?? static function (HandoffError $e, ?int $pid): void {
            fwrite(STDERR, "SocketHandoff: sender $pid refused: {$e->getMessage()}\n");
        };
    }

    /** Imports and acknowledges a checked `socket` frame; the transport's part is take(). */
    private function hold(Peer $peer, int $id, array $msg, array &$fds): void
    {
        $nack = fn (string $code, string $text) => $this->say($peer, ['type' => 'nack', 'id' => $id, 'code' => $code, 'message' => $text]);
        if (isset($peer->held[$id])) {
            $nack('ERR_MALFORMED_FRAME', "hand-off id $id is already in use on this connection");
            return;
        }
        $info = ['id' => $id, 'pid' => $peer->senderPid, 'meta' => $msg['meta'] ?? null, 'head' => base64_decode($msg['head'] ?? '', true),
            'half_open' => ($msg['halfOpen'] ?? false) === true, 'listening' => false];
        if ($this->accept !== null) {
            try {
                $accepted = ($this->accept)($info) !== false;
            } catch (\Throwable $t) {
                $accepted = false;
                ($this->onError)(new HandoffError('ERR_ONSOCKET_THREW', 'accept threw: ' . $t->getMessage()), $peer->senderPid);
            }
            if (!$accepted) {
                $nack('ERR_HANDOFF_DECLINED', 'the receiver declined this socket');
                return;
            }
        }
        $taken = $this->take($id, $msg, $fds, $nack);
        if ($taken === null) return;
        [$socket, $info['listening']] = $taken;
        $peer->held[$id] = [$socket, $info];
        $this->say($peer, ['type' => 'ack', 'id' => $id]);
    }

    /** Writes a frame; a sender gone, or not reading for write_timeout, is dropped now (what it held is released). */
    private function say(Peer $peer, array $message): void
    {
        if ($peer->conn->send($message, $this->maxFrameSize)) return;
        $this->releaseAll($peer);
        $peer->deadline = null;
        $peer->closingUntil = microtime(true);
    }

    /** Answers `error`, releases what the sender left here, and closes after at most 1 s. */
    private function refuse(Peer $peer, HandoffError $e): void
    {
        if ($peer->closingUntil !== null) return;
        $this->say($peer, ['type' => 'error', 'code' => $e->errorCode, 'message' => $e->text()]);
        $this->releaseAll($peer);
        $peer->conn->endWrites();
        $peer->deadline = null;
        $peer->closingUntil = microtime(true) + 1.0;
        ($this->onError)($e, $peer->senderPid ?? $peer->pid);
    }

    private function releaseAll(Peer $peer): void
    {
        foreach ($peer->held as [$socket]) socket_close($socket); // close(): our copy only, never shutdown()
        $peer->held = [];
    }

    private function message(Peer $peer, array $msg, array &$fds): void
    {
        if ($peer->senderPid === null) {
            $this->hello($peer, $msg);
            return;
        }
        $type = $msg['type'] ?? null;
        if ($type === 'commit' || $type === 'abort') {
            $id = integer($msg['id'] ?? null, 1, MAX_ID);
            if ($id === null) throw malformed("$type.id must be a positive integer");
            if (!isset($peer->held[$id])) return; // not held (never acknowledged, or released already): ignored
            [$socket, $info] = $peer->held[$id];
            unset($peer->held[$id]);
            if ($type === 'abort') {
                socket_close($socket);
                return;
            }
            $this->deliver($peer, $socket, $info);
            return;
        }
        if ($type !== 'socket') throw new HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected message type ' . json_encode($type) . '; expected "socket"');
        $id = integer($msg['id'] ?? null, 1, MAX_ID);
        if ($id === null) throw malformed('socket.id must be a positive integer');
        if (($msg['kind'] ?? null) !== 'socket' && ($msg['kind'] ?? null) !== 'server') throw malformed('socket.kind must be "socket" or "server"');
        if (array_key_exists('token', $msg) && !is_string($msg['token'])) throw malformed('socket.token must be a string');
        if (array_key_exists('mapping', $msg) && !is_string($msg['mapping'])) throw malformed('socket.mapping must be a string');
        if (array_key_exists('head', $msg) && (!is_string($msg['head']) || !preg_match(BASE64, $msg['head']))) throw malformed('socket.head must be base64');
        if (array_key_exists('halfOpen', $msg) && !is_bool($msg['halfOpen'])) throw malformed('socket.halfOpen must be a boolean');
        $this->hold($peer, $id, $msg, $fds);
    }

    private function hello(Peer $peer, array $msg): void
    {
        if (($msg['type'] ?? null) !== 'hello' || ($msg['role'] ?? null) !== 'sender') throw malformed('expected the sender hello');
        $version = integer($msg['version'] ?? null);
        if ($version === null) throw malformed('hello.version must be an integer');
        if ($version !== PROTOCOL_VERSION) throw new HandoffError('ERR_UNSUPPORTED_VERSION', "protocol version $version is not supported; this receiver speaks " . PROTOCOL_VERSION);
        $pid = integer($msg['pid'] ?? null, 1, 0xffffffff);
        if ($pid === null) throw malformed('hello.pid must be a positive 32-bit integer');
        if (array_key_exists('proof', $msg) && !is_string($msg['proof'])) throw malformed('hello.proof must be a string');
        if ($pid !== $peer->pid) throw new HandoffError('ERR_PID_MISMATCH', "the sender says it is pid $pid, the OS says {$peer->pid}");
        if ($this->secret !== null) {
            $expected = hash_hmac('sha256', $peer->nonce, $this->secret);
            if (!is_string($msg['proof'] ?? null) || !hash_equals($expected, $msg['proof'])) throw new HandoffError('ERR_CHANNEL_AUTH', 'the sender does not know the secret');
        }
        $peer->senderPid = $pid;
        $peer->deadline = null;
        $this->say($peer, ['type' => 'ready']);
    }

    /** The sender committed: the socket is the application's now (PipeReceiver has its own). */
    private function deliver(Peer $peer, \Socket $socket, array $info): void
    {
        try {
            ($this->onSocket)($socket, $info);
        } catch (\Throwable $t) { // the socket is the application's now
            ($this->onError)(new HandoffError('ERR_ONSOCKET_THREW', 'onSocket threw: ' . $t->getMessage()), $peer->senderPid);
        }
    }
}

/**
 * Listens on channel `name`; each socket a sender hands over goes to $onSocket(Socket $socket, array $info).
 * $info: id, pid (the sender's), meta, head (bytes to read before the socket's own), listening, half_open.
 * Options: secret, accept (fn(array $info): bool; false: nack ERR_HANDOFF_DECLINED), listeners (false:
 * refuse listeners with ERR_UNSUPPORTED_SOCKET_TYPE), handshake_timeout (s), write_timeout (s: a sender
 * that does not read its answers for that long is dropped), max_frame_size, on_error (fn(HandoffError $e, ?int $pid)).
 */
final class UnixReceiver
{
    use ServesSenders;

    public readonly string $path;
    private $lock;
    private ?\Socket $listener;
    private int $inode;
    /** @var array<int, Peer> */
    private array $peers = [];

    public function __construct(string $name, callable $onSocket, array $options = [])
    {
        $this->path = channel_path($name);
        $this->configure($onSocket, $options);
        if (!str_starts_with($name, '/')) {
            $dir = dirname($this->path);
            if (!@mkdir($dir, 0700) && !is_dir($dir) && !is_link($dir)) throw new HandoffError('ERR_CHANNEL_FAILED', "cannot create $dir");
            check_private_directory($dir, 'ERR_CHANNEL_FAILED');
        }
        $umask = umask(0077); // the lock file is created 0600
        $lock = @fopen("{$this->path}.lock", 'c');
        umask($umask);
        if ($lock === false) throw new HandoffError('ERR_CHANNEL_FAILED', "cannot open {$this->path}.lock");
        if (!flock($lock, LOCK_EX | LOCK_NB, $wouldBlock)) { // flock(2), as the Node side
            fclose($lock);
            if ($wouldBlock) throw new HandoffError('ERR_CHANNEL_IN_USE', "another receiver is listening on {$this->path}");
            throw new HandoffError('ERR_CHANNEL_FAILED', "cannot lock {$this->path}.lock");
        }
        $this->lock = $lock;
        $listener = null;
        try {
            clearstatcache(true, $this->path);
            $st = @lstat($this->path);
            if ($st !== false) {
                if (($st['mode'] & 0170000) !== 0140000) throw new HandoffError('ERR_CHANNEL_FAILED', "{$this->path} exists and is not a socket; not touching it");
                unlink($this->path); // with the lock held, a socket file here belongs to a dead receiver
            }
            $listener = socket_create(AF_UNIX, SOCK_STREAM, 0);
            if ($listener === false) throw new HandoffError('ERR_CHANNEL_FAILED', socket_error('socket'));
            if (!@socket_bind($listener, $this->path)) throw new HandoffError('ERR_CHANNEL_FAILED', socket_error('bind', $listener));
            chmod($this->path, 0600);
            if (!@socket_listen($listener, 511)) throw new HandoffError('ERR_CHANNEL_FAILED', socket_error('listen', $listener));
            socket_set_nonblock($listener);
            clearstatcache(true, $this->path);
            $this->inode = stat($this->path)['ino'];
            $this->listener = $listener;
        } catch (\Throwable $e) {
            if ($listener instanceof \Socket) socket_close($listener);
            fclose($lock);
            throw $e;
        }
    }

    public function serveForever(): void
    {
        while ($this->listener !== null) $this->serve(null);
    }

    /** Waits up to $timeout seconds (null: until something happens) and handles what arrived. */
    public function serve(?float $timeout = null, array $alsoWatch = []): array
    {
        $now = microtime(true);
        foreach ($this->peers as $peer) {
            foreach ([$peer->deadline, $peer->closingUntil] as $at) {
                if ($at !== null) $timeout = $timeout === null ? max(0.0, $at - $now) : min($timeout, max(0.0, $at - $now));
            }
        }
        $read = [$this->listener, ...array_map(fn (Peer $p) => $p->conn->socket, array_values($this->peers)), ...$alsoWatch];
        $write = $except = null;
        $sec = $timeout === null ? null : (int)$timeout;
        $usec = $timeout === null ? 0 : (int)(($timeout - (int)$timeout) * 1e6);
        $ready = @socket_select($read, $write, $except, $sec, $usec);
        $woke = [];
        if ($ready !== false) {
            foreach ($read as $socket) {
                if ($socket === $this->listener) $this->acceptOne();
                elseif (isset($this->peers[spl_object_id($socket)])) $this->readFrom($this->peers[spl_object_id($socket)]);
                else $woke[] = $socket;
            }
        }
        $now = microtime(true);
        foreach ($this->peers as $peer) {
            if ($peer->closingUntil !== null && $now >= $peer->closingUntil) $this->drop($peer);
            elseif ($peer->deadline !== null && $now >= $peer->deadline) {
                $this->refuse($peer, new HandoffError('ERR_HANDSHAKE_TIMEOUT', "the sender did not finish the handshake within {$this->handshakeTimeout} s"));
            }
        }
        return $woke;
    }

    /** Stops listening and disconnects every sender; sockets held without commit are closed. */
    public function close(): void
    {
        foreach ($this->peers as $peer) $this->drop($peer);
        if ($this->listener === null) return;
        socket_close($this->listener);
        $this->listener = null;
        clearstatcache(true, $this->path);
        $st = @stat($this->path);
        if ($st !== false && $st['ino'] === $this->inode) @unlink($this->path);
        fclose($this->lock); // the .lock file stays
    }

    private function acceptOne(): void
    {
        $socket = @socket_accept($this->listener);
        if ($socket === false) return;
        try {
            [$pid, $uid] = peer_credentials($socket);
        } catch (HandoffError $e) {
            socket_close($socket);
            ($this->onError)($e, null);
            return;
        }
        socket_set_block($socket);
        // Reads only follow socket_select(); this bounds a write to a sender that stopped reading.
        socket_set_option($socket, SOL_SOCKET, SO_SNDTIMEO, ['sec' => (int)$this->writeTimeout, 'usec' => (int)(fmod($this->writeTimeout, 1.0) * 1e6)]);
        $peer = new Peer(new Connection($socket, $this->maxFrameSize), $pid, $uid);
        $this->peers[spl_object_id($socket)] = $peer;
        $euid = effective_uid();
        if ($uid !== $euid) {
            $this->refuse($peer, new HandoffError('ERR_FOREIGN_UID', sprintf('only senders running as uid %d may connect; this one (pid %d) runs as uid %s', $euid, $pid, $uid ?? 'unknown (its /proc entry is gone)')));
            return;
        }
        $peer->deadline = microtime(true) + $this->handshakeTimeout;
        $this->say($peer, ['type' => 'hello', 'role' => 'receiver', 'versions' => [PROTOCOL_VERSION], 'pid' => getmypid(), 'nonce' => $peer->nonce, 'secret' => $this->secret !== null]);
    }

    private function drop(Peer $peer): void
    {
        $this->releaseAll($peer);
        unset($this->peers[spl_object_id($peer->conn->socket)]);
        $peer->conn->close();
    }

    private function readFrom(Peer $peer): void
    {
        try {
            $frames = $peer->conn->read();
        } catch (HandoffError $e) {
            $this->refuse($peer, $e);
            return;
        }
        if ($frames === null) { // EOF: sockets not committed are the sender's
            $this->drop($peer);
            return;
        }
        foreach ($frames as [$message, $fds]) {
            try {
                if ($peer->closingUntil === null) $this->message($peer, $message, $fds);
            } catch (HandoffError $e) {
                $this->refuse($peer, $e);
            } finally {
                close_all($fds); // whatever was not taken is closed, never leaked
            }
        }
    }

    /** The socket a frame carries, as [socket, listening], or null once it is nacked (nothing kept open). */
    private function take(int $id, array $msg, array &$fds, \Closure $nack): ?array
    {
        if (in_array(null, $fds, true)) {
            $nack('ERR_RECEIVER_BUSY', 'the receiver could not take the descriptor in (MSG_CTRUNC: it is at its descriptor limit)');
            return null;
        }
        if (count($fds) !== 1) {
            $nack('ERR_NO_DESCRIPTOR', "a socket frame must carry exactly one descriptor (SCM_RIGHTS on its first byte); hand-off $id carried " . count($fds));
            return null;
        }
        $socket = $fds[0];
        if (!$socket instanceof \Socket) { // PHP turned a descriptor that is not a socket into a stream
            $nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'the descriptor received is not a socket; it was closed');
            return null;
        }
        $family = @socket_get_option($socket, SOL_SOCKET, SO_DOMAIN);
        $type = @socket_get_option($socket, SOL_SOCKET, SO_TYPE);
        $listening = @socket_get_option($socket, SOL_SOCKET, SO_ACCEPTCONN);
        if (!in_array($family, [AF_INET, AF_INET6], true) || $type !== SOCK_STREAM || !is_int($listening)) {
            $nack('ERR_UNSUPPORTED_SOCKET_TYPE', sprintf('the channel carries IPv4 and IPv6 stream sockets; this one has family %s, type %s', var_export($family, true), var_export($type, true)));
            return null;
        }
        if ($listening !== 0 && !$this->listeners) {
            $nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'this receiver takes connections only; this socket is listening');
            return null;
        }
        $fds = []; // taken: no longer closed by the caller
        return [$socket, $listening !== 0];
    }
}

/** Listens on channel `name` and serves senders forever (see Receiver for the options). */
function receive(string $name, callable $onSocket, array $options = []): void
{
    $receiver = new Receiver($name, $onSocket, $options);
    try {
        $receiver->serveForever();
    } finally {
        $receiver->close();
    }
}

// ------------------------------------------------------------------------------------------------
// Sender
// ------------------------------------------------------------------------------------------------

/**
 * What both senders (Unix socket, named pipe) share: their state and options, the handshake, the
 * wait for an answer, fail() and close(). The transport provides nextMessage() and $conn.
 */
trait SendsSockets
{
    public readonly string $path;
    public readonly int $receiverPid;
    private int $nextId = 1;
    private ?HandoffError $closed = null;
    /** @var list<array> */
    private array $frames = [];
    private float $ackTimeout;
    private int $maxFrameSize;

    /** The channel's path, and the options both senders read: ack_timeout (s, default 10), max_frame_size. */
    private function takeOptions(string $path, array $options): void
    {
        $this->path = $path;
        $this->ackTimeout = (float)($options['ack_timeout'] ?? 10.0);
        $this->maxFrameSize = $options['max_frame_size'] ?? MAX_FRAME_SIZE;
    }

    private function fail(HandoffError $e): HandoffError
    {
        if ($this->closed === null) {
            $this->closed = $e;
            $this->conn->close();
        }
        return $e;
    }

    public function close(): void
    {
        $this->fail(new HandoffError('ERR_CHANNEL_CLOSED', 'the sender was closed'));
    }

    private static function remoteError(array $msg, string $what): HandoffError
    {
        return new HandoffError(is_string($msg['code'] ?? null) ? $msg['code'] : 'ERR_MALFORMED_FRAME', "$what: " . (is_string($msg['message'] ?? null) ? $msg['message'] : 'no reason given'));
    }

    private function handshake(?string $secret, float $deadline): int
    {
        $timeout = fn () => new HandoffError('ERR_HANDSHAKE_TIMEOUT', "no handshake from a receiver on {$this->path} in time");
        try {
            $hello = $this->nextMessage($deadline, $timeout);
        } catch (HandoffError $e) {
            if ($e->errorCode === 'ERR_RECEIVER_GONE') throw new HandoffError('ERR_CHANNEL_UNAVAILABLE', "the receiver on {$this->path} closed the connection during the handshake");
            throw $e;
        }
        if (($hello['type'] ?? null) === 'error') throw self::remoteError($hello, 'the receiver refused');
        if (($hello['type'] ?? null) !== 'hello' || ($hello['role'] ?? null) !== 'receiver') throw malformed('expected the receiver hello');
        $versions = $hello['versions'] ?? null;
        if (!is_array($versions) || !array_is_list($versions)) throw malformed('hello.versions must be an array of integers');
        $versions = array_map(fn ($v) => integer($v), $versions);
        if (in_array(null, $versions, true)) throw malformed('hello.versions must be an array of integers');
        $pid = integer($hello['pid'] ?? null, 1, 0xffffffff);
        if ($pid === null) throw malformed('hello.pid must be a positive 32-bit integer');
        if (!is_string($hello['nonce'] ?? null) || utf16_length($hello['nonce']) > 128) throw malformed('hello.nonce must be a short string');
        if (!is_bool($hello['secret'] ?? null)) throw malformed('hello.secret must be a boolean');
        if (!in_array(PROTOCOL_VERSION, $versions, true)) throw new HandoffError('ERR_UNSUPPORTED_VERSION', 'receiver speaks protocol versions ' . json_encode($versions) . '; this sender speaks ' . PROTOCOL_VERSION);
        if ($hello['secret'] && $secret === null) throw new HandoffError('ERR_CHANNEL_AUTH', "the receiver on {$this->path} requires a secret");
        $answer = ['type' => 'hello', 'role' => 'sender', 'version' => PROTOCOL_VERSION, 'pid' => getmypid()];
        if ($hello['secret']) $answer['proof'] = hash_hmac('sha256', $hello['nonce'], $secret);
        $this->conn->send($answer, $this->maxFrameSize);
        $reply = $this->nextMessage($deadline, $timeout);
        if (($reply['type'] ?? null) === 'error') throw self::remoteError($reply, 'the receiver refused this sender');
        if (($reply['type'] ?? null) !== 'ready') throw new HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected ' . json_encode($reply['type'] ?? null) . ' during the handshake');
        return $pid;
    }

    /**
     * Waits for the answer to hand-off $id and, on `ack`, writes `commit`. Throws HandoffError on
     * anything else; the socket is then still the caller's.
     */
    private function awaitAnswer(int $id): void
    {
        $deadline = microtime(true) + $this->ackTimeout;
        $timeout = fn () => new HandoffError('ERR_HANDOFF_TIMEOUT', "the receiver did not answer hand-off $id within {$this->ackTimeout} s");
        for (;;) {
            try {
                $reply = $this->nextMessage($deadline, $timeout);
            } catch (HandoffError $e) {
                if ($e->errorCode === 'ERR_HANDOFF_TIMEOUT') {
                    if (!$this->conn->send(['type' => 'abort', 'id' => $id])) $this->fail(new HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel'));
                    throw $e;
                }
                throw $this->fail($e);
            }
            $type = $reply['type'] ?? null;
            if ($type === 'error') throw $this->fail(self::remoteError($reply, 'the receiver closed the channel'));
            if ($type === 'ready') continue;
            if ($type !== 'ack' && $type !== 'nack') throw $this->fail(new HandoffError('ERR_UNEXPECTED_MESSAGE', 'unexpected message type ' . json_encode($type) . ' from the receiver'));
            $answered = integer($reply['id'] ?? null, 1, MAX_ID);
            if ($answered === null || ($type === 'nack' && !(is_string($reply['code'] ?? null) && is_string($reply['message'] ?? null)))) {
                throw $this->fail(malformed($type === 'nack' ? 'nack needs id, code and message' : 'ack.id must be a positive integer'));
            }
            if ($answered !== $id) continue; // a late answer to a hand-off already aborted
            if ($type === 'nack') throw new HandoffError('ERR_HANDOFF_REFUSED', "the receiver refused the socket: {$reply['code']}: {$reply['message']}", $reply['code']);
            if (!$this->conn->send(['type' => 'commit', 'id' => $id])) {
                throw $this->fail(new HandoffError('ERR_RECEIVER_GONE', "the receiver went away before hand-off $id was committed"));
            }
            return;
        }
    }
}

/** A connection to one receiver. send() hands one socket over; the caller's copy is then closed. */
final class UnixSender
{
    use SendsSockets;

    private Connection $conn;

    /** Options: secret, connect_timeout (s), ack_timeout (s), max_frame_size. */
    public function __construct(string $name, array $options = [])
    {
        $this->takeOptions(channel_path($name), $options);
        $connectTimeout = (float)($options['connect_timeout'] ?? 5.0);
        if (!str_starts_with($name, '/')) check_private_directory(dirname($this->path), 'ERR_CHANNEL_UNAVAILABLE');
        $socket = socket_create(AF_UNIX, SOCK_STREAM, 0);
        if ($socket === false) throw new HandoffError('ERR_CHANNEL_UNAVAILABLE', socket_error('socket'));
        try {
            if (!@socket_connect($socket, $this->path)) {
                throw new HandoffError('ERR_CHANNEL_UNAVAILABLE', "cannot reach a receiver on {$this->path}: " . socket_error('connect', $socket));
            }
            [, $uid] = peer_credentials($socket);
            if ($uid !== effective_uid()) {
                throw new HandoffError('ERR_FOREIGN_UID', sprintf('the receiver on %s runs as uid %s, not as this process\'s uid %d', $this->path, $uid ?? 'unknown', effective_uid()));
            }
            $this->conn = new Connection($socket, $this->maxFrameSize);
            $this->receiverPid = $this->handshake($options['secret'] ?? null, microtime(true) + $connectTimeout);
        } catch (\Throwable $e) {
            socket_close($socket);
            throw $e;
        }
    }

    private function nextMessage(float $deadline, callable $timeoutError): array
    {
        while (!$this->frames) {
            $left = $deadline - microtime(true);
            if ($left <= 0) throw $timeoutError();
            $read = [$this->conn->socket];
            $write = $except = null;
            if (@socket_select($read, $write, $except, (int)$left, (int)(($left - (int)$left) * 1e6)) === 0) continue;
            $frames = $this->conn->read();
            if ($frames === null) throw new HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel');
            foreach ($frames as [$message, $fds]) {
                if ($fds) {
                    close_all($fds);
                    throw new HandoffError('ERR_UNEXPECTED_MESSAGE', 'a receiver never sends a socket frame');
                }
                $this->frames[] = $message;
            }
        }
        return array_shift($this->frames);
    }

    /**
     * Hands $socket (a connected or listening TCP Socket, or a stream from stream_socket_accept())
     * to the receiver. Returns the hand-off id once the receiver acknowledged it and `commit` is
     * written; $socket is closed then (never shut down) unless $keepOpen. Throws HandoffError and
     * leaves $socket open and yours on ERR_HANDOFF_REFUSED ($e->reason: the receiver's code),
     * ERR_HANDOFF_TIMEOUT, ERR_RECEIVER_GONE, ERR_CHANNEL_CLOSED or a receiver's `error` code.
     */
    public function send(mixed $socket, string $head = '', mixed $meta = null, bool $keepOpen = false): int
    {
        if ($this->closed !== null) throw new HandoffError('ERR_CHANNEL_CLOSED', 'this sender is closed (' . $this->closed->getMessage() . ')');
        if ($socket instanceof \Socket) {
            $probe = $socket;
            // PHP 8.0-8.2 send the wrong descriptor for a Socket object in SCM_RIGHTS; a stream of it is right.
            $stream = socket_export_stream($socket);
        } elseif (is_resource($socket) && get_resource_type($socket) === 'stream') {
            $stream = $socket;
            $probe = socket_import_stream($socket);
        } else {
            throw new HandoffError('ERR_INVALID_ARG_TYPE', 'socket must be a Socket or a socket stream');
        }
        if ($probe === false || $stream === false) throw new HandoffError('ERR_SOCKET_CLOSED', 'the socket is closed');
        $family = @socket_get_option($probe, SOL_SOCKET, SO_DOMAIN);
        if (!in_array($family, [AF_INET, AF_INET6], true) || @socket_get_option($probe, SOL_SOCKET, SO_TYPE) !== SOCK_STREAM) {
            throw new HandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', 'the channel carries IPv4 and IPv6 stream sockets');
        }
        $listening = @socket_get_option($probe, SOL_SOCKET, SO_ACCEPTCONN) === 1;
        if (!$listening && !@socket_getpeername($probe, $address)) throw new HandoffError('ERR_NOT_CONNECTED', 'the socket is neither connected nor listening');
        $id = $this->nextId++;
        $message = ['type' => 'socket', 'id' => $id, 'kind' => $listening ? 'server' : 'socket'];
        if ($head !== '') $message['head'] = base64_encode($head);
        if ($meta !== null) $message['meta'] = $meta;
        $data = encode($message, $this->maxFrameSize);
        // One sendmsg() with the descriptor on the frame's first byte; the rest without one.
        $sent = @socket_sendmsg($this->conn->socket, ['iov' => [$data], 'control' => [['level' => SOL_SOCKET, 'type' => SCM_RIGHTS, 'data' => [$stream]]]], MSG_NOSIGNAL);
        if ($sent === false || !$this->conn->write(substr($data, $sent))) {
            throw $this->fail(new HandoffError('ERR_RECEIVER_GONE', 'cannot write to the receiver: ' . socket_error('sendmsg', $this->conn->socket)));
        }
        $this->awaitAnswer($id);
        if (!$keepOpen) {
            if ($socket instanceof \Socket) socket_close($socket); // closes the exported stream and the descriptor, no shutdown
            else fclose($socket);
        }
        return $id;
    }
}

/** Connects to the receiver on channel `name` and does the handshake (see Sender for the options). */
function open_sender(string $name, array $options = []): Sender
{
    return new Sender($name, $options);
}

// ------------------------------------------------------------------------------------------------
// Windows (UNTESTED here: no Windows PHP runs in this project's tests; the same calls are made by
// the C peer test/cross-process/fixtures/c-peer/c-peer.c under Wine). The named pipe
// \\.\pipe\<name> through FFI, sockets in the mapping form with PHP's own three functions.
// ------------------------------------------------------------------------------------------------

const PIPE_POLL_US = 5000; // between polls of the pipes (a single thread, no overlapped I/O from PHP)
const PIPE_ACCESS_DUPLEX = 0x3;
const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000;
const PIPE_NOWAIT = 0x1;
const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
const PIPE_UNLIMITED_INSTANCES = 255;
const GENERIC_READ_WRITE = 0xC0000000;
const OPEN_EXISTING = 3;
const FILE_MAP_READ = 0x4;
const ERROR_ACCESS_DENIED = 5;
const ERROR_PIPE_BUSY = 231;
const ERROR_NO_DATA = 232;
const ERROR_PIPE_CONNECTED = 535;
const ERROR_PIPE_LISTENING = 536;
const WIN_SO_ACCEPTCONN = 0x0002;
const WIN_AF_INET6 = 23;
const INFO_A_SIZE = 372;          // sizeof(WSAPROTOCOL_INFOA): PHP's Windows build uses the ANSI struct
const MAX_MAPPING_NAME = 255;
const WSA_NAMES = [10013 => 'WSAEACCES', 10014 => 'WSAEFAULT', 10022 => 'WSAEINVAL', 10024 => 'WSAEMFILE', 10038 => 'WSAENOTSOCK',
    10041 => 'WSAEPROTOTYPE', 10043 => 'WSAEPROTONOSUPPORT', 10044 => 'WSAESOCKTNOSUPPORT', 10047 => 'WSAEAFNOSUPPORT',
    10050 => 'WSAENETDOWN', 10055 => 'WSAENOBUFS', 10105 => 'WSAEINVALIDPROVIDER'];

/** The pipe of channel `name`: `\\.\pipe\<name>`; a full `\\.\pipe\` or `\\?\pipe\` path is used as it is. */
function pipe_path(string $name): string
{
    if (preg_match('~^\\\\\\\\[.?]\\\\pipe\\\\~i', $name)) return $name;
    if ($name === '' || strlen($name) > 200 || preg_match('~[\\\\/:*?"<>|\0]~', $name)) {
        throw new HandoffError('ERR_INVALID_ARG_VALUE', 'a channel name of 1 to 200 characters without \\ / : * ? " < > |, or a full \\\\.\\pipe\\ path');
    }
    return "\\\\.\\pipe\\$name";
}

/** kernel32 through FFI (PHP has no named pipe server and no way to read a mapping): loaded once. */
function kernel32(): \FFI
{
    static $k = null;
    if ($k !== null) return $k;
    if (!class_exists(\FFI::class)) {
        throw new HandoffError('ERR_UNSUPPORTED_PLATFORM', 'the Windows form of the channel needs PHP\'s FFI extension (php.ini: extension=ffi; the CLI allows it by default)');
    }
    return $k = \FFI::cdef('
        typedef void *HANDLE;
        HANDLE CreateNamedPipeW(const char *name, uint32_t openMode, uint32_t pipeMode, uint32_t maxInstances, uint32_t outSize, uint32_t inSize, uint32_t defaultTimeout, void *security);
        HANDLE CreateFileW(const char *name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, HANDLE templ);
        int WaitNamedPipeW(const char *name, uint32_t timeout);
        int ConnectNamedPipe(HANDLE pipe, void *overlapped);
        int GetNamedPipeClientProcessId(HANDLE pipe, uint32_t *pid);
        int PeekNamedPipe(HANDLE pipe, void *buffer, uint32_t size, uint32_t *read, uint32_t *available, uint32_t *left);
        int ReadFile(HANDLE file, char *buffer, uint32_t size, uint32_t *read, void *overlapped);
        int WriteFile(HANDLE file, const char *buffer, uint32_t size, uint32_t *written, void *overlapped);
        HANDLE OpenFileMappingW(uint32_t access, int inherit, const char *name);
        void *MapViewOfFile(HANDLE map, uint32_t access, uint32_t offsetHigh, uint32_t offsetLow, size_t size);
        int UnmapViewOfFile(void *view);
        int CloseHandle(HANDLE handle);
        uint32_t GetLastError(void);
    ', 'kernel32.dll');
}

/** `s` as a NUL-terminated UTF-16LE string for the W functions (kept alive by the caller). */
function wide(string $s): \FFI\CData
{
    $utf16 = '';
    foreach (preg_split('//u', $s, -1, PREG_SPLIT_NO_EMPTY) ?: [] as $c) { // UTF-8 to UTF-16LE without mbstring
        $b = array_values(unpack('C*', $c));
        $cp = match (count($b)) {
            1 => $b[0],
            2 => (($b[0] & 0x1F) << 6) | ($b[1] & 0x3F),
            3 => (($b[0] & 0x0F) << 12) | (($b[1] & 0x3F) << 6) | ($b[2] & 0x3F),
            default => (($b[0] & 0x07) << 18) | (($b[1] & 0x3F) << 12) | (($b[2] & 0x3F) << 6) | ($b[3] & 0x3F),
        };
        $utf16 .= $cp < 0x10000 ? pack('v', $cp) : pack('vv', 0xD800 | (($cp - 0x10000) >> 10), 0xDC00 | (($cp - 0x10000) & 0x3FF));
    }
    $utf16 .= "\0\0";
    $buffer = kernel32()->new('char[' . strlen($utf16) . ']');
    \FFI::memcpy($buffer, $utf16, strlen($utf16));
    return $buffer;
}

/** A HANDLE that is neither NULL nor INVALID_HANDLE_VALUE. */
function valid_handle(?\FFI\CData $handle): bool
{
    return $handle !== null && !\FFI::isNull($handle) && kernel32()->cast('intptr_t', $handle)->cdata !== -1;
}

/** The frames completed in `buffer` (consumed from it), each [message, []]: pipes carry no descriptors. */
function decode_frames(string &$buffer, int $maxSize): array
{
    $out = [];
    while (strlen($buffer) >= 4) {
        $size = unpack('N', $buffer)[1];
        if ($size === 0) throw malformed('frame with an empty body');
        if ($size > $maxSize) throw new HandoffError('ERR_FRAME_TOO_LARGE', "frame of $size bytes exceeds the limit of $maxSize bytes");
        if (strlen($buffer) < 4 + $size) break;
        $body = substr($buffer, 4, $size);
        $buffer = substr($buffer, 4 + $size);
        $out[] = [parse_body($body), []];
    }
    return $out;
}

/**
 * The Win32 error number in PHP's warning: socket_wsaprotocol_info_export/_import report their
 * failures only as "… [0x%08lx] …" warnings, never through socket_last_error().
 */
function php_warning_code(): int
{
    $last = error_get_last();
    return preg_match('/\[0x([0-9a-f]+)\]/i', (string)($last['message'] ?? ''), $m) ? (int)hexdec($m[1]) : 0;
}

/**
 * Why the mapping `name` cannot be imported, or null if it holds a well-formed WSAPROTOCOL_INFOA:
 * the checks the Node receiver makes before WSASocketA (ERR_INVALID_MAPPING). PHP's own import
 * reads whatever is there, so a mapping smaller than 372 bytes would reach WSASocket as zeros.
 */
function mapping_problem(string $name): ?string
{
    if ($name === '' || !preg_match('//u', $name) || utf16_length($name) > MAX_MAPPING_NAME || str_contains($name, "\0")) {
        return 'a mapping name is 1 to ' . MAX_MAPPING_NAME . ' characters without NUL';
    }
    $k = kernel32();
    $wideName = wide($name);
    $map = $k->OpenFileMappingW(FILE_MAP_READ, 0, $wideName);
    if (!valid_handle($map)) return 'OpenFileMappingW failed (' . $k->GetLastError() . ')';
    try {
        $view = $k->MapViewOfFile($map, FILE_MAP_READ, 0, 0, INFO_A_SIZE);
        if ($view === null || \FFI::isNull($view)) return 'MapViewOfFile failed (' . $k->GetLastError() . ')';
        $bytes = \FFI::string($view, INFO_A_SIZE);
        $k->UnmapViewOfFile($view);
    } finally {
        $k->CloseHandle($map);
    }
    $chain = unpack('l', substr($bytes, 40, 4))[1];
    if ($chain < 0 || $chain > 7) return "ProtocolChain.ChainLen is $chain, expected 0..7";
    if (!str_contains(substr($bytes, 116, 256), "\0")) return 'szProtocol is not NUL-terminated within 256 characters';
    $family = unpack('l', substr($bytes, 76, 4))[1];
    if ($family !== AF_INET && $family !== WIN_AF_INET6) return "iAddressFamily is $family, not AF_INET (2) or AF_INET6 (23)";
    return null;
}

/** Frames over one end of a named pipe, polled with PeekNamedPipe so that nothing blocks. */
final class Pipe
{
    private string $buffer = '';
    private \FFI\CData $chunk;

    /** `writeTimeout`: how long a write may wait while the other end takes nothing (a receiver's write_timeout); null: no limit. */
    public function __construct(public readonly \FFI\CData $handle, private readonly int $maxSize, private readonly ?float $writeTimeout = null)
    {
        $this->chunk = kernel32()->new('char[' . READ_SIZE . ']');
    }

    /** True when read() has something to say: bytes are waiting, or the other end is gone. */
    public function readable(): bool
    {
        $k = kernel32();
        $available = kernel32()->new('uint32_t');
        return !$k->PeekNamedPipe($this->handle, null, 0, null, \FFI::addr($available), null) || $available->cdata > 0;
    }

    /** The frames completed by what is waiting now, each [message, []]; [] if none yet; null once the other end is gone. */
    public function read(): ?array
    {
        $k = kernel32();
        $available = kernel32()->new('uint32_t');
        if (!$k->PeekNamedPipe($this->handle, null, 0, null, \FFI::addr($available), null)) return null; // ERROR_BROKEN_PIPE
        if ($available->cdata === 0) return [];
        $got = kernel32()->new('uint32_t');
        if (!$k->ReadFile($this->handle, $this->chunk, min($available->cdata, READ_SIZE), \FFI::addr($got), null)) return null;
        $this->buffer .= \FFI::string($this->chunk, $got->cdata);
        return decode_frames($this->buffer, $this->maxSize);
    }

    /** Writes all of `data`; false if the other end is gone, or took nothing for writeTimeout seconds (PIPE_NOWAIT ends only). */
    public function write(string $data): bool
    {
        $k = kernel32();
        $written = kernel32()->new('uint32_t');
        $until = $this->writeTimeout === null ? null : microtime(true) + $this->writeTimeout;
        while ($data !== '') {
            if (!$k->WriteFile($this->handle, $data, strlen($data), \FFI::addr($written), null)) return false;
            $data = substr($data, $written->cdata);
            if ($data !== '' && $written->cdata === 0) {
                if ($until !== null && microtime(true) >= $until) return false;
                usleep(PIPE_POLL_US);
            }
        }
        return true;
    }

    public function send(array $message, int $maxSize = MAX_FRAME_SIZE): bool
    {
        return $this->write(encode($message, $maxSize));
    }

    /** A pipe has no half close: the sender reads the error, then the pipe closes (refuse() gives it 1 s). */
    public function endWrites(): void
    {
    }

    public function close(): void
    {
        kernel32()->CloseHandle($this->handle);
    }
}

/**
 * The receiver on Windows: the pipe server of \\.\pipe\<name> (PIPE_REJECT_REMOTE_CLIENTS, one
 * receiver per name through FILE_FLAG_FIRST_PIPE_INSTANCE), same options and callbacks as on
 * Linux. Its hello asks for the mapping form; each socket is imported with
 * socket_wsaprotocol_info_import() and, on commit, made blocking (a connection) before
 * $onSocket gets it. A token cannot be imported by PHP: it is refused (nack ERR_INVALID_TOKEN).
 */
final class PipeReceiver
{
    use ServesSenders;

    public readonly string $path;
    private ?\FFI\CData $waiting;
    /** @var array<int, Peer> */
    private array $peers = [];

    public function __construct(string $name, callable $onSocket, array $options = [])
    {
        $this->path = pipe_path($name);
        $this->configure($onSocket, $options);
        $this->waiting = $this->instance(true);
    }

    /** A pipe instance waiting for the next sender; the first one claims the name. */
    private function instance(bool $first = false): \FFI\CData
    {
        $k = kernel32();
        $handle = $k->CreateNamedPipeW(wide($this->path), PIPE_ACCESS_DUPLEX | ($first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
            PIPE_NOWAIT | PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES, READ_SIZE, READ_SIZE, 0, null);
        if (!valid_handle($handle)) {
            $error = $k->GetLastError();
            $code = $first && ($error === ERROR_ACCESS_DENIED || $error === ERROR_PIPE_BUSY) ? 'ERR_CHANNEL_IN_USE' : 'ERR_CHANNEL_FAILED';
            throw new HandoffError($code, "cannot listen on {$this->path} (CreateNamedPipeW: $error)");
        }
        return $handle;
    }

    public function serveForever(): void
    {
        while ($this->waiting !== null) $this->serve(null);
    }

    /** Waits up to $timeout seconds (null: until something happens) and handles what arrived. */
    public function serve(?float $timeout = null): void
    {
        $until = $timeout === null ? null : microtime(true) + $timeout;
        for (;;) {
            $busy = $this->acceptOne();
            foreach ($this->peers as $key => $peer) {
                if ($peer->conn->readable()) {
                    $busy = true;
                    $this->readFrom($key, $peer);
                }
            }
            $now = microtime(true);
            foreach ($this->peers as $key => $peer) {
                if ($peer->closingUntil !== null && $now >= $peer->closingUntil) $this->drop($key, $peer);
                elseif ($peer->deadline !== null && $now >= $peer->deadline) {
                    $this->refuse($peer, new HandoffError('ERR_HANDSHAKE_TIMEOUT', "the sender did not finish the handshake within {$this->handshakeTimeout} s"));
                }
            }
            if ($busy || $this->waiting === null || ($until !== null && microtime(true) >= $until)) return;
            usleep(PIPE_POLL_US);
        }
    }

    public function close(): void
    {
        foreach ($this->peers as $key => $peer) $this->drop($key, $peer);
        if ($this->waiting === null) return;
        kernel32()->CloseHandle($this->waiting);
        $this->waiting = null;
    }

    /** A sender on the waiting instance becomes a peer (ConnectNamedPipe polls: the pipe is PIPE_NOWAIT). */
    private function acceptOne(): bool
    {
        if ($this->waiting === null) return false;
        $k = kernel32();
        $connected = $k->ConnectNamedPipe($this->waiting, null);
        $error = $connected ? 0 : $k->GetLastError();
        if (!$connected && $error === ERROR_PIPE_LISTENING) return false;
        $handle = $this->waiting;
        $this->waiting = $this->instance();
        if (!$connected && $error !== ERROR_PIPE_CONNECTED) { // ERROR_NO_DATA: it came and went
            $k->CloseHandle($handle);
            return true;
        }
        $pid = kernel32()->new('uint32_t');
        if (!$k->GetNamedPipeClientProcessId($handle, \FFI::addr($pid))) {
            $k->CloseHandle($handle);
            ($this->onError)(new HandoffError('ERR_CHANNEL_FAILED', 'GetNamedPipeClientProcessId failed (' . $k->GetLastError() . ')'), null);
            return true;
        }
        $peer = new Peer(new Pipe($handle, $this->maxFrameSize, $this->writeTimeout), $pid->cdata, null);
        $this->peers[spl_object_id($peer)] = $peer;
        $peer->deadline = microtime(true) + $this->handshakeTimeout;
        $this->say($peer, ['type' => 'hello', 'role' => 'receiver', 'versions' => [PROTOCOL_VERSION], 'pid' => getmypid(),
            'nonce' => $peer->nonce, 'secret' => $this->secret !== null, 'socketForm' => 'mapping']);
        return true;
    }

    private function drop(int $key, Peer $peer): void
    {
        $this->releaseAll($peer);
        unset($this->peers[$key]);
        $peer->conn->close();
    }

    private function readFrom(int $key, Peer $peer): void
    {
        try {
            $frames = $peer->conn->read();
        } catch (HandoffError $e) {
            $this->refuse($peer, $e);
            return;
        }
        if ($frames === null) { // the sender is gone: what it did not commit is still its own
            $this->drop($key, $peer);
            return;
        }
        foreach ($frames as [$message, $fds]) {
            try {
                if ($peer->closingUntil === null) $this->message($peer, $message, $fds);
            } catch (HandoffError $e) {
                $this->refuse($peer, $e);
            }
        }
    }

    /** On commit a connection is made blocking: PHP's import says it is, and now it may be (the sender let go). */
    private function deliver(Peer $peer, \Socket $socket, array $info): void
    {
        if (!$info['listening']) socket_set_block($socket);
        try {
            ($this->onSocket)($socket, $info);
        } catch (\Throwable $t) {
            ($this->onError)(new HandoffError('ERR_ONSOCKET_THREW', 'onSocket threw: ' . $t->getMessage()), $peer->senderPid);
        }
    }

    /** The mapping form: checks as the Node receiver makes them, then socket_wsaprotocol_info_import(): [socket, listening], or null once it is nacked. */
    private function take(int $id, array $msg, array &$fds, \Closure $nack): ?array
    {
        $hasToken = array_key_exists('token', $msg);
        if ($hasToken === array_key_exists('mapping', $msg)) {
            $nack('ERR_MALFORMED_FRAME', $hasToken ? 'a socket frame carries a token or a mapping, not both' : 'a socket frame needs a token or a mapping');
            return null;
        }
        if ($hasToken) {
            $nack('ERR_INVALID_TOKEN', 'this receiver imports sockets the PHP way only (its hello asked for socketForm "mapping"); PHP cannot import a token');
            return null;
        }
        $problem = mapping_problem($msg['mapping']);
        if ($problem !== null) {
            $nack('ERR_INVALID_MAPPING', "mapping {$msg['mapping']}: $problem");
            return null;
        }
        error_clear_last();
        $socket = @socket_wsaprotocol_info_import($msg['mapping']);
        if ($socket === false) {
            $error = php_warning_code();
            if ($error === 10024 || $error === 10055) $nack('ERR_RECEIVER_BUSY', "the receiver is out of resources (WSASocket: $error)");
            else $nack(WSA_NAMES[$error] ?? "WIN32_ERROR_$error", 'socket_wsaprotocol_info_import: ' . (error_get_last()['message'] ?? 'failed'));
            return null;
        }
        $type = @socket_get_option($socket, SOL_SOCKET, SO_TYPE);
        $listening = @socket_get_option($socket, SOL_SOCKET, WIN_SO_ACCEPTCONN);
        if ($type !== SOCK_STREAM || !is_int($listening)) {
            socket_close($socket);
            $nack('ERR_UNSUPPORTED_SOCKET_TYPE', sprintf('the channel carries TCP sockets; this one has type %s', var_export($type, true)));
            return null;
        }
        if ($listening !== 0 && !$this->listeners) {
            socket_close($socket);
            $nack('ERR_UNSUPPORTED_SOCKET_TYPE', 'this receiver takes connections only; this socket is listening');
            return null;
        }
        return [$socket, $listening !== 0];
    }
}

/**
 * The sender on Windows: a client of \\.\pipe\<name>. Each socket travels in the mapping form,
 * the only one PHP can make: socket_wsaprotocol_info_export() for the receiver's pid, its name in
 * `mapping`, and socket_wsaprotocol_info_release() once the hand-off is answered or given up.
 * The socket's blocking mode is not touched. PHP names every mapping php_wsa_for_<n> with a
 * counter that starts at 0 in every process, and writes into an existing mapping of that name
 * without noticing: so exports are serialised across PHP processes by a lock file, held from the
 * export until the release.
 */
final class PipeSender
{
    use SendsSockets;

    private Pipe $conn;

    /** Options: secret, connect_timeout (s), ack_timeout (s), max_frame_size. */
    public function __construct(string $name, array $options = [])
    {
        $this->takeOptions(pipe_path($name), $options);
        $deadline = microtime(true) + (float)($options['connect_timeout'] ?? 5.0);
        $k = kernel32();
        $path = wide($this->path);
        for (;;) {
            $handle = $k->CreateFileW($path, GENERIC_READ_WRITE, 0, null, OPEN_EXISTING, 0, null);
            if (valid_handle($handle)) break;
            $error = $k->GetLastError();
            if ($error !== ERROR_PIPE_BUSY || microtime(true) >= $deadline) {
                throw new HandoffError('ERR_CHANNEL_UNAVAILABLE', "cannot reach a receiver on {$this->path} (CreateFileW: $error)");
            }
            $k->WaitNamedPipeW($path, max(1, (int)(($deadline - microtime(true)) * 1000)));
        }
        $this->conn = new Pipe($handle, $this->maxFrameSize);
        try {
            $this->receiverPid = $this->handshake($options['secret'] ?? null, $deadline);
        } catch (\Throwable $e) {
            $this->conn->close();
            throw $e;
        }
    }

    private function nextMessage(float $deadline, callable $timeoutError): array
    {
        while (!$this->frames) {
            if (microtime(true) >= $deadline) throw $timeoutError();
            if (!$this->conn->readable()) {
                usleep(PIPE_POLL_US);
                continue;
            }
            $frames = $this->conn->read();
            if ($frames === null) throw new HandoffError('ERR_RECEIVER_GONE', 'the receiver closed the channel');
            foreach ($frames as [$message]) $this->frames[] = $message;
        }
        return array_shift($this->frames);
    }

    /**
     * Hands $socket (a connected or listening TCP Socket; a socket stream is imported with
     * socket_import_stream()) to the receiver, as on Linux: returns the hand-off id once the
     * receiver acknowledged it and `commit` is written, and closes $socket unless $keepOpen.
     * Throws HandoffError and leaves $socket yours on refusal, timeout or a receiver gone.
     */
    public function send(mixed $socket, string $head = '', mixed $meta = null, bool $keepOpen = false): int
    {
        if ($this->closed !== null) throw new HandoffError('ERR_CHANNEL_CLOSED', 'this sender is closed (' . $this->closed->getMessage() . ')');
        $probe = $socket instanceof \Socket ? $socket : (is_resource($socket) && get_resource_type($socket) === 'stream' ? socket_import_stream($socket) : null);
        if ($probe === null) throw new HandoffError('ERR_INVALID_ARG_TYPE', 'socket must be a Socket or a socket stream');
        if ($probe === false) throw new HandoffError('ERR_SOCKET_CLOSED', 'the socket is closed');
        if (@socket_get_option($probe, SOL_SOCKET, SO_TYPE) !== SOCK_STREAM) throw new HandoffError('ERR_UNSUPPORTED_SOCKET_TYPE', 'the channel carries TCP sockets');
        $listening = @socket_get_option($probe, SOL_SOCKET, WIN_SO_ACCEPTCONN) === 1;
        if (!$listening && !@socket_getpeername($probe, $address)) throw new HandoffError('ERR_NOT_CONNECTED', 'the socket is neither connected nor listening');
        $lock = self::exportLock();
        try {
            error_clear_last();
            $mapping = @socket_wsaprotocol_info_export($probe, $this->receiverPid);
            if ($mapping === false) {
                $error = php_warning_code();
                throw new HandoffError(WSA_NAMES[$error] ?? "WIN32_ERROR_$error", 'socket_wsaprotocol_info_export: ' . (error_get_last()['message'] ?? 'failed'));
            }
            try {
                $id = $this->nextId++;
                $message = ['type' => 'socket', 'id' => $id, 'kind' => $listening ? 'server' : 'socket', 'mapping' => $mapping];
                if ($head !== '') $message['head'] = base64_encode($head);
                if ($meta !== null) $message['meta'] = $meta;
                if (!$this->conn->send($message, $this->maxFrameSize)) throw $this->fail(new HandoffError('ERR_RECEIVER_GONE', 'cannot write to the receiver'));
                $this->awaitAnswer($id);
            } finally {
                // Answered, refused, timed out or gone: the receiver has read it or never will.
                socket_wsaprotocol_info_release($mapping);
            }
        } finally {
            flock($lock, LOCK_UN);
            fclose($lock);
        }
        if (!$keepOpen) {
            if ($socket instanceof \Socket) socket_close($socket); // no shutdown: the connection lives on in the receiver
            else fclose($socket);
        }
        return $id;
    }

    /** The machine-wide lock around PHP's php_wsa_for_<n> names (see the class comment). */
    private static function exportLock()
    {
        $lock = @fopen(sys_get_temp_dir() . DIRECTORY_SEPARATOR . 'socket-handoff-php-wsa.lock', 'c');
        if ($lock === false || !flock($lock, LOCK_EX)) {
            if ($lock !== false) fclose($lock);
            throw new HandoffError('ERR_CHANNEL_FAILED', 'cannot lock ' . sys_get_temp_dir() . DIRECTORY_SEPARATOR . 'socket-handoff-php-wsa.lock');
        }
        return $lock;
    }
}

// The API is the same on both platforms: Receiver and Sender are the platform's classes.
if (PHP_OS_FAMILY === 'Windows') {
    class_alias(PipeReceiver::class, Receiver::class);
    class_alias(PipeSender::class, Sender::class);
} else {
    class_alias(UnixReceiver::class, Receiver::class);
    class_alias(UnixSender::class, Sender::class);
}
