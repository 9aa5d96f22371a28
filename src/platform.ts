/**
 * The one place that decides the platform. The Windows backend (and with it koffi's ws2_32
 * bindings) is required lazily, on the first call that needs it, never on import.
 */
import type { ListenerBackend, TokenBackend } from './backend';
import type { HandoffTransport } from './channel/transport';
import { SocketHandoffError } from './errors';

let backend: TokenBackend | undefined;

/** The token backend for this platform. */
export function tokenBackend(): TokenBackend {
  if (backend === undefined) {
    backend = process.platform === 'win32' ? loadWin32Backend() : (require('./unsupported-backend') as typeof import('./unsupported-backend')).unsupportedBackend;
  }
  return backend;
}

function loadWin32Backend(): TokenBackend {
  try {
    return (require('./win32/token-backend') as typeof import('./win32/token-backend')).win32TokenBackend;
  } catch (cause) {
    // Typically koffi's win32 binary (@koromix/koffi-win32-x64) is missing from node_modules.
    throw new SocketHandoffError('ERR_BINDING_UNAVAILABLE', `Cannot load the Winsock bindings: ${(cause as Error).message}`, { cause });
  }
}

/** Named file mappings (PHP's way of passing a WSAPROTOCOL_INFOA): Windows only, loaded on first use. */
export function fileMappings(): typeof import('./win32/file-mapping') {
  if (process.platform !== 'win32') {
    throw new SocketHandoffError(
      'ERR_UNSUPPORTED_PLATFORM',
      `socket_wsaprotocol_info_*() pass Winsock sockets through Windows file mappings, as PHP does; this is ${process.platform}.`,
    );
  }
  return require('./win32/file-mapping') as typeof import('./win32/file-mapping');
}

/** HandoverServer's listener and accept path: Winsock on Windows, libc on Linux (loaded on first use). */
export function listenerBackend(): ListenerBackend {
  if (process.platform === 'linux') return (require('./posix/listener-backend') as typeof import('./posix/listener-backend')).posixListenerBackend;
  return tokenBackend();
}

/**
 * The hand-off channel's transport for this platform: named pipes and tokens on Windows, Unix
 * sockets and SCM_RIGHTS on Linux (its libc bindings load on first use, never on import).
 * @throws SocketHandoffError `ERR_UNSUPPORTED_PLATFORM` elsewhere (macOS is not verified yet).
 */
export function channelTransport(): HandoffTransport {
  if (process.platform === 'win32') {
    return (require('./channel/win32-pipe-transport') as typeof import('./channel/win32-pipe-transport')).win32PipeTransport;
  }
  if (process.platform === 'linux') {
    return (require('./channel/unix-socket-transport') as typeof import('./channel/unix-socket-transport')).unixSocketTransport;
  }
  throw new SocketHandoffError(
    'ERR_UNSUPPORTED_PLATFORM',
    `The hand-off channel runs on Windows (named pipes and WSADuplicateSocketW) and Linux (Unix sockets with SCM_RIGHTS); this is ${process.platform}. ` +
      'The SCM_RIGHTS transport has not been verified on macOS yet; until then use child_process.send(message, socket).',
  );
}
