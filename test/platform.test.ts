/** Importing the package must never load koffi's Windows bindings (or ws2_32) off Windows. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const dist = path.resolve(__dirname, '..', 'dist');

function loadedAfter(script: string): { modules: string[]; result: unknown } {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const pkg = require(${JSON.stringify(dist)}); let result = null; ${script};
       const modules = Object.keys(require.cache).filter((m) => /koffi|[\\\\/]win32[\\\\/]/.test(m));
       process.stdout.write(JSON.stringify({ modules, result }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

(process.platform === 'win32' ? describe.skip : describe)('platform selection off Windows', () => {
  it('loads neither koffi nor the win32 modules on import', () => {
    expect(loadedAfter('').modules).toEqual([]);
  });

  it('still loads neither after a token call failed with ERR_UNSUPPORTED_PLATFORM', () => {
    const { modules, result } = loadedAfter(
      `try { pkg.importSocket(pkg.encodeProtocolInfo(Buffer.alloc(628))); } catch (e) { result = e.code; }`,
    );
    expect(result).toBe('ERR_UNSUPPORTED_PLATFORM');
    expect(modules).toEqual([]);
  });

  it('keeps the codec working', () => {
    const { result } = loadedAfter(`result = pkg.decodeProtocolInfo(pkg.encodeProtocolInfo(Buffer.alloc(628))).ProtocolChain.ChainLen`);
    expect(result).toBe(0);
  });
});
