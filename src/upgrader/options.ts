/** Option checks of Upgrader.start(), listen() and upgrade(): defaults first, then the caller's, validated. */
import { invalidArgType, invalidArgValue } from '../errors';
import { checkOptionsObject, checkTimeout } from '../channel/options';

/** Options of Upgrader.start(). */
export interface UpgraderOptions {
  /** The service's name; every generation of it uses the same one. */
  name: string;
  /** How long a retired generation waits for its connections to close before destroying them (ms). Default 30000. */
  drainTimeout?: number;
  /** Written atomically with this generation's pid once it is ready. */
  pidFile?: string;
}

/** Options of upgrader.upgrade(). */
export interface UpgradeOptions {
  /** The program to start. Default: this Node (process.execPath). */
  command?: string;
  /** Its arguments. Default: this process's execArgv, script and arguments. */
  args?: string[];
  /** Its environment. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long the new generation has to become ready (ms). Default 60000. */
  timeout?: number;
}

const NAME = /^[A-Za-z0-9._-]{1,60}$/;

export function checkUpgraderOptions(options: unknown): Required<Omit<UpgraderOptions, 'pidFile'>> & { pidFile: string | undefined } {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options);
  const opts = options as Record<string, unknown>;
  if (typeof opts.name !== 'string') throw invalidArgType('options.name', 'a string', opts.name);
  if (!NAME.test(opts.name) && !(process.platform === 'linux' && opts.name.startsWith('/') && opts.name.length <= 80)) {
    throw invalidArgValue('options.name', 'a name of 1 to 60 letters, digits, ".", "_" or "-" (on Linux also an absolute socket path of at most 80 characters)', opts.name);
  }
  const drainTimeout = checkTimeout('drainTimeout', opts.drainTimeout, 30000);
  if (opts.pidFile !== undefined && (typeof opts.pidFile !== 'string' || opts.pidFile.length === 0)) {
    throw invalidArgValue('options.pidFile', 'a non-empty file path', opts.pidFile);
  }
  return { name: opts.name, drainTimeout, pidFile: opts.pidFile as string | undefined };
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw invalidArgType('key', 'a string', key);
  if (key.length === 0 || key.length > 255) throw invalidArgValue('key', 'a non-empty string of at most 255 characters', key);
  return key;
}

export function checkUpgradeOptions(options: unknown): { command: string; args: string[]; env: NodeJS.ProcessEnv; timeout: number } {
  const opts = checkOptionsObject(options);
  if (opts.command !== undefined && (typeof opts.command !== 'string' || opts.command.length === 0)) {
    throw invalidArgValue('options.command', 'a non-empty program path', opts.command);
  }
  if (opts.args !== undefined && (!Array.isArray(opts.args) || !opts.args.every((a) => typeof a === 'string'))) {
    throw invalidArgType('options.args', 'an array of strings', opts.args);
  }
  if (opts.env !== undefined && (opts.env === null || typeof opts.env !== 'object')) throw invalidArgType('options.env', 'an object', opts.env);
  return {
    command: (opts.command as string | undefined) ?? process.execPath,
    args: (opts.args as string[] | undefined) ?? [...process.execArgv, ...process.argv.slice(1)],
    env: (opts.env as NodeJS.ProcessEnv | undefined) ?? process.env,
    timeout: checkTimeout('timeout', opts.timeout, 60000),
  };
}
