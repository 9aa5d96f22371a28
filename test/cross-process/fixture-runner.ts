/**
 * The one helper that starts the Node.js process of a cross-process test: Windows Node as a child of
 * jest when jest runs on a Windows build of Node (on Windows, or itself under Wine), else through
 * scripts/win-node (Wine); or, for the Linux channel, this machine's own Node ('linux') or another
 * Linux line through scripts/linux-node ('linux-22', 'linux-24'). Fixtures print `RESULT <json>` last.
 * Which of these is the case comes from test/support/platform.js, never from the platform name alone.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { ON_LINUX, ON_REAL_WINDOWS, WINDOWS_NODE } from '../support/platform';
import { spawnProcess } from '../support/spawn-process';

export const REPO = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

/**
 * Windows Node lines the cross-process tests run on. When jest itself runs on a Windows build of
 * Node (on Windows, or under Wine), that Node is the one tested and fixtures start as its children.
 */
export const NODE_LINES: string[] = WINDOWS_NODE ? [process.versions.node.split('.')[0]] : ['20', '22'];

/** The Windows fixtures run under Wine unless jest runs on real Windows (scripts/win-node uses Wine off Windows). */
export const FIXTURES_UNDER_WINE = !ON_REAL_WINDOWS;

const SYSTEM_MAJOR = process.versions.node.split('.')[0];

/** Linux Node lines for the channel: this machine's Node ('linux'), and 22 and 24 from scripts/linux-node. */
const LINUX_LINES: { label: string; line: string }[] =
  !ON_LINUX
    ? []
    : [
        { label: `Linux Node ${SYSTEM_MAJOR} (native)`, line: 'linux' },
        ...['22', '24', '26'].filter((major) => major !== SYSTEM_MAJOR).map((major) => ({ label: `Linux Node ${major} (native, scripts/linux-node)`, line: `linux-${major}` })),
      ];

/** Where the channel tests run: every Windows line, plus every Linux line natively on Linux. */
export const CHANNEL_RUNTIMES: { label: string; line: string }[] = [
  ...NODE_LINES.map((line) => ({ label: `Windows Node ${line}${FIXTURES_UNDER_WINE ? ' (Wine)' : ''}`, line })),
  ...LINUX_LINES,
];

/** True for the Linux lines of CHANNEL_RUNTIMES (SCM_RIGHTS), false for the Windows ones (tokens). */
export const isLinuxLine = (line: string): boolean => line === 'linux' || line.startsWith('linux-');

export interface FixtureRun<T> {
  status: number | null;
  stdout: string;
  stderr: string;
  result: T;
}

/** Runs a fixture with the given Node line ('20', '22': Windows; 'linux', 'linux-22', 'linux-24') and returns its parsed RESULT line. */
export function runFixture<T = Record<string, unknown>>(fixture: string, args: string[] = [], nodeLine = '20'): Promise<FixtureRun<T>> {
  const script = path.join(FIXTURES, fixture);
  let child;
  if (WINDOWS_NODE || nodeLine === 'linux') child = spawnProcess(process.execPath, [script, ...args], { cwd: REPO });
  else if (nodeLine.startsWith('linux-')) {
    child = spawn('bash', [path.join(REPO, 'scripts', 'linux-node'), script, ...args], {
      cwd: REPO,
      env: { ...process.env, LINUX_NODE_VERSION: nodeLine.slice('linux-'.length), LINUX_NODE_QUIET: '1' },
    });
  } else {
    child = spawn('bash', [path.join(REPO, 'scripts', 'win-node'), script, ...args], {
      cwd: REPO,
      env: { ...process.env, WIN_NODE_VERSION: nodeLine, WIN_NODE_QUIET: '1' },
    });
  }
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
