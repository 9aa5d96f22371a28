/**
 * The one place that decides the platform. The Windows backend (and with it koffi's ws2_32
 * bindings) is required lazily, on the first call that needs it, never on import.
 */
import type { TokenBackend } from './backend';

let backend: TokenBackend | undefined;

/** The token backend for this platform. */
export function tokenBackend(): TokenBackend {
  if (backend === undefined) {
    backend =
      process.platform === 'win32'
        ? (require('./win32/token-backend') as typeof import('./win32/token-backend')).win32TokenBackend
        : (require('./unsupported-backend') as typeof import('./unsupported-backend')).unsupportedBackend;
  }
  return backend;
}
