/**
 * The package as a stranger gets it (package.json, LICENSE, scripts/build.js): `npm pack` in a copy
 * of the working tree without dist/ builds first and ships dist/ (JS and .d.ts), README, docs,
 * LICENSE and the two channel peers (peers/), nothing else; the tarball installed into an empty
 * project works from there by name only:
 * require (CommonJS), import (.mjs), `tsc --strict --noEmit` under moduleResolution node10 and
 * node16, one hand-off through the channel natively on Linux, one token round trip with Windows
 * Node (under Wine off Windows).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { itOnLinux, UNDER_WINE } from '../support/platform';

const REPO = path.resolve(__dirname, '..', '..');
const CONSUMER = path.join(__dirname, 'consumer');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', shell: process.platform === 'win32', stdio: ['ignore', 'pipe', 'pipe'] });

// jest itself run by Windows Node under Wine (docs/windows-notes.md) has neither npm nor git: the
// package is checked by the Linux run and by real Windows there. Everywhere else they must work.
const suite = UNDER_WINE ? describe.skip : describe;
const WINE_REASON = UNDER_WINE ? ' (not under Wine: no npm or git in the Wine prefix; the Linux pass checks the package)' : '';

let work: string;
let project: string;
let files: string[];
let tarball: string;

beforeAll(() => {
  if (UNDER_WINE) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'socket-handoff-package-'));
  // A fresh clone: the files git knows (tracked, or new and not ignored), no dist/, no build.
  const clone = path.join(work, 'clone');
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], REPO).split('\0').filter(Boolean);
  for (const file of listed) {
    if (!fs.existsSync(path.join(REPO, file))) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO, file), path.join(clone, file));
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules'), 'junction');
  expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
  const [packed] = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', work], clone));
  files = packed.files.map((f: { path: string }) => f.path).sort();
  tarball = path.join(work, packed.filename);

  project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  for (const file of fs.readdirSync(CONSUMER)) fs.copyFileSync(path.join(CONSUMER, file), path.join(project, file));
}, 300_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

suite('npm pack' + WINE_REASON, () => {
  it('builds in a clone without dist/ and ships dist/ (JS and .d.ts), README, docs, LICENSE, package.json and the two peers only', () => {
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'docs/api.md', 'docs/errors.md', 'dist/index.js', 'dist/index.d.ts', 'dist/php/index.js', 'dist/php/index.d.ts', 'peers/python/socket_handoff.py', 'peers/php/SocketHandoff.php']));
    expect(files.filter((f) => !/^(dist\/.*\.(js|d\.ts)|docs\/[^/]+\.md|README\.md|LICENSE|package\.json|peers\/python\/socket_handoff\.py|peers\/php\/SocketHandoff\.php)$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.map$/.test(f))).toEqual([]);
  });

  it('ships no source map reference and no internal declaration', () => {
    const installed = path.join(project, 'node_modules', 'socket-handoff', 'dist');
    const all = files.filter((f) => f.startsWith('dist/')).map((f) => fs.readFileSync(path.join(installed, f.slice('dist/'.length)), 'utf8'));
    expect(all.filter((text) => text.includes('sourceMappingURL'))).toEqual([]);
    const declarations = files.filter((f) => f.endsWith('.d.ts')).map((f) => fs.readFileSync(path.join(installed, f.slice('dist/'.length)), 'utf8')).join('\n');
    expect(declarations).not.toMatch(/reportError|reportClientError|SocketHandleOps/);
  });
});

suite('the installed tarball, by package name only' + WINE_REASON, () => {
  it('loads with require() from CommonJS', () => {
    const out = JSON.parse(run(process.execPath, ['consumer.cjs'], project));
    expect(fs.realpathSync(out.resolved)).toBe(fs.realpathSync(path.join(project, 'node_modules', 'socket-handoff', 'dist', 'index.js')));
    expect(Object.values(out.types)).toEqual(Array(10).fill('function'));
    expect(Object.values(out.php)).toEqual(Array(5).fill('function'));
    expect(out.size).toBe(628);
  });

  it('loads with import from an .mjs file, with named exports', () => {
    const out = JSON.parse(run(process.execPath, ['consumer.mjs'], project));
    expect(out).toEqual({ named: Array(5).fill('function'), defaultIsNamespace: true, roundTrip: 0 });
  });

  it.each([
    ['node10', 'commonjs'],
    ['node16', 'node16'],
  ])('type-checks a consumer (socket-handoff and socket-handoff/php) with tsc --strict under moduleResolution %s', (resolution, module) => {
    const tsconfig = path.join(project, `tsconfig.${resolution}.json`);
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module, moduleResolution: resolution, types: ['node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] },
        files: ['consumer.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: project, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  itOnLinux('hands a connection over through the channel', 'the native channel is checked here; Windows Node runs the token round trip below', () => {
    const out = JSON.parse(run(process.execPath, ['handoff.cjs'], project));
    expect(out).toEqual({ reply: 'socket 7 head:body' });
  });

  it('does a token round trip with Windows Node' + (process.platform === 'win32' ? '' : ' under Wine'), () => {
    let out: string;
    if (process.platform === 'win32') out = run(process.execPath, ['token.cjs'], project);
    else {
      // scripts/win-node puts koffi's win32 binary into the repository's node_modules; the project needs it too.
      run('bash', [path.join(REPO, 'scripts', 'win-node'), path.join(project, 'consumer.cjs')], project);
      const binary = path.join(REPO, 'node_modules', '@koromix', 'koffi-win32-x64');
      fs.cpSync(binary, path.join(project, 'node_modules', '@koromix', 'koffi-win32-x64'), { recursive: true });
      out = run('bash', [path.join(REPO, 'scripts', 'win-node'), path.join(project, 'token.cjs')], project);
    }
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(JSON.parse((line ?? 'RESULT null').slice('RESULT '.length))).toEqual({ tokenLength: 840, listening: true, reply: 'via token\n' });
  });
});
