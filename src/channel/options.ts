/** Option checks shared by openReceiver and openSender: defaults first, then the caller's, validated. */
import { invalidArgType, invalidArgValue } from '../errors';
import { MAX_FRAME_SIZE } from './frame-codec';

export function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2 ** 31 - 1) {
    throw invalidArgValue(`options.${name}`, 'a number of milliseconds from 1 to 2147483647', value);
  }
  return value;
}

/** A delay in milliseconds where 0 means none. */
export function checkDelay(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw invalidArgValue(`options.${name}`, 'an integer number of milliseconds from 0 to 1000', value);
  }
  return value;
}

export function checkSecret(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalidArgValue('options.secret', 'a non-empty string', value);
  return value;
}

export function checkMaxFrameSize(value: unknown): number {
  if (value === undefined) return MAX_FRAME_SIZE;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 4096 || value > 64 * 1024 * 1024) {
    throw invalidArgValue('options.maxFrameSize', 'an integer from 4096 to 67108864 (bytes)', value);
  }
  return value;
}

export function checkName(value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType('name', 'a string', value);
  if (value.length === 0) throw invalidArgValue('name', 'a non-empty channel name', value);
  return value;
}

export function checkOptionsObject(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw invalidArgType('options', 'an object', value);
  return value as Record<string, unknown>;
}
