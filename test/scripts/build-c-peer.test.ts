/** scripts/build-c-peer.js: which compiler builds the C interop peer, found without a shell. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WINDOWS_NODE } from '../support/platform';

const { buildCPeer, findCompiler, OUTPUT } = require('../../scripts/build-c-peer.js') as {
  buildCPeer: (options?: { env?: NodeJS.ProcessEnv }) => string;
  findCompiler: (env: NodeJS.ProcessEnv) => string;
  OUTPUT: string;
};

describe('build-c-peer', () => {
  let dir: string;
  /** A file named like a program in its own folder, as a PATH entry would hold it. */
  const program = (name: string) => {
    const folder = fs.mkdtempSync(path.join(dir, 'bin-'));
    fs.writeFileSync(path.join(folder, name), '');
    return folder;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-c-peer-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes $CC_MINGW first, as a path or as a name on PATH', () => {
    const cross = program('x86_64-w64-mingw32-gcc');
    const own = program('my-gcc');
    expect(findCompiler({ CC_MINGW: path.join(own, 'my-gcc'), PATH: cross })).toBe(path.join(own, 'my-gcc'));
    expect(findCompiler({ CC_MINGW: 'my-gcc', PATH: [cross, own].join(path.delimiter) })).toBe(path.join(own, 'my-gcc'));
  });

  it('fails, naming the variable, when $CC_MINGW is nowhere', () => {
    const cross = program('x86_64-w64-mingw32-gcc');
    expect(() => findCompiler({ CC_MINGW: 'no-such-gcc', PATH: cross })).toThrow(/CC_MINGW=no-such-gcc is not a file nor on PATH/);
  });

  it('else takes x86_64-w64-mingw32-gcc from PATH, before any gcc', () => {
    const gcc = program('gcc');
    const cross = program('x86_64-w64-mingw32-gcc');
    expect(findCompiler({ PATH: [gcc, cross].join(path.delimiter) })).toBe(path.join(cross, 'x86_64-w64-mingw32-gcc'));
  });

  it('takes a plain gcc only on Windows, where it is MinGW-w64\'s; elsewhere it builds for the host', () => {
    const gcc = program('gcc');
    if (WINDOWS_NODE) expect(findCompiler({ PATH: gcc })).toBe(path.join(gcc, 'gcc'));
    else expect(() => findCompiler({ PATH: gcc })).toThrow(/no MinGW-w64 gcc: set CC_MINGW, or put one of x86_64-w64-mingw32-gcc on PATH/);
  });

  it('finds gcc.exe by PATHEXT on Windows, and nothing by that name elsewhere', () => {
    const gcc = program('x86_64-w64-mingw32-gcc.exe');
    if (WINDOWS_NODE) expect(findCompiler({ PATH: gcc, PATHEXT: '.COM;.EXE' })).toBe(path.join(gcc, 'x86_64-w64-mingw32-gcc.exe'));
    else expect(() => findCompiler({ PATH: gcc, PATHEXT: '.COM;.EXE' })).toThrow(/no MinGW-w64 gcc/);
  });

  it('needs no compiler once the peer is up to date', () => {
    expect(buildCPeer()).toBe(OUTPUT);
    expect(buildCPeer({ env: { PATH: '' } })).toBe(OUTPUT);
    expect(fs.statSync(OUTPUT).size).toBeGreaterThan(0);
  });
});
