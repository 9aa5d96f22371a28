/**
 * The one place that decides the platform. The Windows backend (and with it koffi's ws2_32
 * bindings) is required lazily, on the first call that needs it, never on import.
 */
import type { TokenBackend } from './backend';
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

/**
 * The hand-off channel's transport for this platform.
 * @throws SocketHandoffError `ERR_UNSUPPORTED_PLATFORM` off Windows (the SCM_RIGHTS transport is planned).
 */
export function channelTransport(): HandoffTransport {
  if (process.platform === 'win32') {
    return (require('./channel/win32-pipe-transport') as typeof import('./channel/win32-pipe-transport')).win32PipeTransport;
  }
  throw new SocketHandoffError(
    'ERR_UNSUPPORTED_PLATFORM',
    `The hand-off channel runs on Windows for now (named pipes and WSADuplicateSocketW); this is ${process.platform}. ` +
      'Its POSIX transport (Unix sockets with SCM_RIGHTS) is planned; until then use child_process.send(message, socket).',
  );
}
