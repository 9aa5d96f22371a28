/**
 * The layers docs/architecture.md draws, checked on src/ with madge (which also follows the lazy
 * require() calls): no import cycle, and imports point one way, core → platform → base.
 */
import * as path from 'node:path';

// madge has no typings of its own; this is the part of its API used here.
type MadgeResult = { circular(): string[][]; obj(): Record<string, string[]> };
const madge = require('madge') as (path: string, config: object) => Promise<MadgeResult>;

const REPO = path.resolve(__dirname, '..');

/** The layer of a module of src/ (path relative to src/, with .ts). */
function layer(file: string): 'core' | 'platform' | 'base' {
  if (/^(win32|posix)\//.test(file) || file === 'platform.ts' || file === 'unsupported-platform.ts') return 'platform';
  if (/^(channel|websocket|php|upgrader)\//.test(file) || ['index.ts', 'token-api.ts', 'socket-handle.ts', 'handover-server.ts', 'dotnet-options.ts'].includes(file)) {
    return 'core';
  }
  return 'base';
}

const RANK = { base: 0, platform: 1, core: 2 };

let graph: MadgeResult;

beforeAll(async () => {
  const raw = await madge(path.join(REPO, 'src'), { fileExtensions: ['ts'], tsConfig: path.join(REPO, 'tsconfig.json') });
  // Module names with '/' on every platform.
  const slash = (p: string) => p.split(path.sep).join('/');
  const obj = Object.fromEntries(Object.entries(raw.obj()).map(([from, deps]) => [slash(from), deps.map(slash)]));
  graph = { circular: () => raw.circular(), obj: () => obj };
}, 60_000);

describe('src/ layers', () => {
  it('has no import cycle', () => {
    expect(graph.circular()).toEqual([]);
  });

  it('sees every module (the check is not looking at nothing)', () => {
    const files = Object.keys(graph.obj());
    expect(files.length).toBeGreaterThan(60);
    expect(files).toEqual(expect.arrayContaining(['platform.ts', 'win32/platform.ts', 'posix/platform.ts', 'handover-server.ts', 'channel/receiver.ts']));
    // The lazy require() calls are edges too.
    expect(graph.obj()['platform.ts']).toEqual(expect.arrayContaining(['win32/platform.ts', 'posix/platform.ts']));
  });

  it('imports point one way: core → platform → base, never back', () => {
    const upward = Object.entries(graph.obj()).flatMap(([from, deps]) =>
      deps.filter((to) => RANK[layer(to)] > RANK[layer(from)]).map((to) => `${from} (${layer(from)}) imports ${to} (${layer(to)})`),
    );
    expect(upward).toEqual([]);
  });

  it('lets the core reach the platform only through platform.ts and platform-api.ts', () => {
    const direct = Object.entries(graph.obj()).flatMap(([from, deps]) =>
      layer(from) === 'core' ? deps.filter((to) => /^(win32|posix)\//.test(to)).map((to) => `${from} imports ${to}`) : [],
    );
    expect(direct).toEqual([]);
  });
});
