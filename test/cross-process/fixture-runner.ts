/**
 * The one helper that starts the Node.js process of a cross-process test: Windows Node natively on
 * Windows or through scripts/win-node (Wine) elsewhere, or this machine's own Node ('native', the
 * Linux channel). Fixtures print `RESULT <json>` last.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

/** True only on real Windows; rules that Wine does not enforce are asserted only here. */
export const ON_REAL_WINDOWS = process.platform === 'win32';

/** Windows Node lines the cross-process tests run on. On Windows, the Node running jest is the one tested. */
export const NODE_LINES: string[] = ON_REAL_WINDOWS ? [process.versions.node.split('.')[0]] : ['20', '22'];

/** Where the channel tests run: every Windows line, plus this machine's Node natively on Linux. */
export const CHANNEL_RUNTIMES: { label: string; line: string }[] = [
  ...NODE_LINES.map((line) => ({ label: `Windows Node ${line}${ON_REAL_WINDOWS ? '' : ' (Wine)'}`, line })),
  ...(process.platform === 'linux' ? [{ label: `Linux Node ${process.versions.node.split('.')[0]} (native)`, line: 'native' }] : []),
];

export interface FixtureRun<T> {
  status: number | null;
  stdout: string;
  stderr: string;
  result: T;
}

/** Runs a fixture with the given Windows Node line (or 'native') and returns its parsed RESULT line. */
export function runFixture<T = Record<string, unknown>>(fixture: string, args: string[] = [], nodeLine = '20'): Promise<FixtureRun<T>> {
  const script = path.join(FIXTURES, fixture);
  const child = ON_REAL_WINDOWS || nodeLine === 'native'
    ? spawn(process.execPath, [script, ...args], { cwd: REPO })
    : spawn('bash', [path.join(REPO, 'scripts', 'win-node'), script, ...args], {
        cwd: REPO,
        env: { ...process.env, WIN_NODE_VERSION: nodeLine, WIN_NODE_QUIET: '1' },
      });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      if (line === undefined) {
        reject(new Error(`${fixture} (Node ${nodeLine}) printed no RESULT; exit ${status}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      resolve({ status, stdout, stderr, result: JSON.parse(line.slice('RESULT '.length)) as T });
    });
  });
}
