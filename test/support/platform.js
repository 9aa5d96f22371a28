'use strict';
/**
 * Where the tests run, decided in this one place for every jest test and every cross-process
 * fixture: Linux, real Windows, or Windows Node under Wine.
 *
 * process.platform is 'win32' both on Windows and under Wine, so it only says which code path the
 * package takes. Wine is detected explicitly: Wine's ntdll.dll exports wine_get_version, and
 * Windows' ntdll.dll has no such export.
 *
 * Plain CommonJS (typed by platform.d.ts) so that the fixtures, which Node runs without ts-jest,
 * load the same detection as the tests.
 */

/** This is a Windows build of Node: on Windows or under Wine. The package takes its Winsock path. */
const WINDOWS_NODE = process.platform === 'win32';

/** This process is a Windows build of Node running under Wine. */
const UNDER_WINE = WINDOWS_NODE && exportsWineGetVersion();

/** This process runs on real Windows, where Windows' own rules for shared sockets apply. */
const ON_REAL_WINDOWS = WINDOWS_NODE && !UNDER_WINE;

/** This process runs on Linux (Unix sockets, SCM_RIGHTS, /proc). */
const ON_LINUX = process.platform === 'linux';

function exportsWineGetVersion() {
  let ntdll;
  try {
    ntdll = require('koffi').load('ntdll.dll');
  } catch (err) {
    // Every Windows process has ntdll.dll loaded: failing to load it is a broken set-up, not an answer.
    throw new Error(`test/support/platform: cannot load ntdll.dll to tell Windows from Wine: ${err && err.message}`);
  }
  try {
    ntdll.func('const char *wine_get_version()');
    return true;
  } catch {
    return false;
  }
}

/** Wine's version ('8.0' ...), or undefined when not under Wine. */
function wineVersion() {
  if (!UNDER_WINE) return undefined;
  return require('koffi').load('ntdll.dll').func('const char *wine_get_version()')();
}

/**
 * Runs `fn` as jest's `it` (or `describe`) where `runs` is true, and as `it.skip` (`describe.skip`)
 * elsewhere. The title always ends with `(<where> only: <reason>)`, so a skip says why wherever it
 * shows, and the test has the same name on every platform.
 */
function restricted(runs, where) {
  const titled = (title, reason) => `${title} (${where} only: ${reason})`;
  return {
    it: (title, reason, fn, timeout) => (runs ? it : it.skip)(titled(title, reason), fn, timeout),
    describe: (title, reason, fn) => (runs ? describe : describe.skip)(titled(title, reason), fn),
  };
}

const linuxOnly = restricted(ON_LINUX, 'Linux');
const realWindowsOnly = restricted(ON_REAL_WINDOWS, 'real Windows');
const windowsOnly = restricted(WINDOWS_NODE, 'Windows');
const offWindowsOnly = restricted(!WINDOWS_NODE, 'off Windows');
const elsewhereOnly = restricted(!ON_LINUX && !WINDOWS_NODE, 'off Linux and Windows');
const channelPlatformsOnly = restricted(ON_LINUX || WINDOWS_NODE, 'Linux and Windows');

module.exports = {
  WINDOWS_NODE,
  UNDER_WINE,
  ON_REAL_WINDOWS,
  ON_LINUX,
  wineVersion,
  itOnLinux: linuxOnly.it,
  describeOnLinux: linuxOnly.describe,
  itOnRealWindows: realWindowsOnly.it,
  describeOnWindows: windowsOnly.describe,
  itOffWindows: offWindowsOnly.it,
  describeOffWindows: offWindowsOnly.describe,
  itElsewhere: elsewhereOnly.it,
  itOnLinuxOrWindows: channelPlatformsOnly.it,
  describeOnLinuxOrWindows: channelPlatformsOnly.describe,
};
