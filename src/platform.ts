/**
 * The one place that decides the platform, once, on the first call that needs it (never on import,
 * so that importing the package loads neither koffi nor a platform's bindings). Everything above
 * this layer talks to the platform through the Platform interface (platform-api.ts) only.
 */
import { SocketHandoffError } from './errors';
import type { Platform } from './platform-api';
import { unsupportedPlatform } from './unsupported-platform';

let chosen: Platform | undefined;

/** This process's platform. @throws SocketHandoffError `ERR_BINDING_UNAVAILABLE` when Windows' bindings cannot load. */
export function platform(): Platform {
  return (chosen ??= choose());
}

function choose(): Platform {
  switch (process.platform) {
    case 'win32':
      try {
        return (require('./win32/platform') as typeof import('./win32/platform')).win32Platform;
      } catch (cause) {
        // Typically koffi's win32 binary (@koromix/koffi-win32-x64) is missing from node_modules.
        throw new SocketHandoffError('ERR_BINDING_UNAVAILABLE', `Cannot load the Winsock bindings: ${(cause as Error).message}`, { cause });
      }
    case 'linux':
      return (require('./posix/platform') as typeof import('./posix/platform')).linuxPlatform;
    default:
      return unsupportedPlatform(process.platform);
  }
}
