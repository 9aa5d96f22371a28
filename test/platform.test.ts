/** Importing the package must never load koffi's Windows bindings (or ws2_32) off Windows, nor libc before the channel is used. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describeOffWindows, itOnLinux } from './support/platform';

const dist = path.resolve(__dirname, '..', 'dist');

function loadedAfter(script: string): { modules: string[]; result: unknown } {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const pkg = require(${JSON.stringify(dist)}); let result = null; ${script};
       const modules = Object.keys(require.cache).filter((m) => /koffi|[\\\\/](win32|posix)[\\\\/]/.test(m));
       process.stdout.write(JSON.stringify({ modules, result }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

describeOffWindows('platform selection', 'a Windows build of Node takes the Winsock path', () => {
  it('loads neither koffi nor the win32 (nor the posix) modules on import', () => {
    expect(loadedAfter('').modules).toEqual([]);
  });

  it('still loads neither after a token call failed with ERR_UNSUPPORTED_PLATFORM, whose message points to the channel', () => {
    const { modules, result } = loadedAfter(
      `try { pkg.importSocket(pkg.encodeProtocolInfo(Buffer.alloc(628))); } catch (e) { result = [e.code, e.message]; }`,
    );
    expect(result).toEqual(['ERR_UNSUPPORTED_PLATFORM', expect.stringMatching(/openReceiver\(\)\/openSender\(\)/)]);
    // The platform was chosen (src/platform.ts loaded posix/platform.ts, a table of lazy parts), and nothing more.
    const chosen = process.platform === 'linux' ? [path.join(dist, 'posix', 'platform.js')] : [];
    expect(modules).toEqual(chosen);
  });

  itOnLinux('loads the POSIX channel, and still no win32 module, once a receiver opens', 'the POSIX channel', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const pkg = require(${JSON.stringify(dist)});
         pkg.openReceiver('platform-test-' + process.pid, () => {}).then(async (r) => {
           const modules = Object.keys(require.cache);
           await r.close();
           process.stdout.write(JSON.stringify({
             win32: modules.filter((m) => /[\\/]win32[\\/]/.test(m)),
             posix: modules.some((m) => /[\\/]posix[\\/]unix-link/.test(m)),
           }));
         });`,
      ],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({ win32: [], posix: true });
  });

  it('keeps the codec working', () => {
    const { result } = loadedAfter(`result = pkg.decodeProtocolInfo(pkg.encodeProtocolInfo(Buffer.alloc(628))).ProtocolChain.ChainLen`);
    expect(result).toBe(0);
  });
});
