'use strict';
/**
 * GetProcessHandleCount of this process (Windows only), for the bench's leak check; null if unavailable.
 * Wine 8 answers 0 (a stub); a live Windows process always has handles, so 0 is reported as null.
 */
let fn;

function processHandleCount() {
  try {
    if (!fn) {
      const koffi = require('koffi');
      const kernel32 = koffi.load('kernel32.dll');
      const GetCurrentProcess = kernel32.func('void * __stdcall GetCurrentProcess()');
      const GetProcessHandleCount = kernel32.func('int __stdcall GetProcessHandleCount(void *process, _Out_ uint32_t *count)');
      fn = () => {
        const count = [0];
        return GetProcessHandleCount(GetCurrentProcess(), count) && count[0] > 0 ? count[0] : null;
      };
    }
    return fn();
  } catch {
    return null;
  }
}

module.exports = { processHandleCount };
