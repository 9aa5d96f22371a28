import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidTokenError, SocketHandoffError, WinsockError, describe as describeValue, invalidArgValue } from '../src/errors';

const SRC = path.resolve(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('errors', () => {
  it('shapes WinsockError like Node errno errors', () => {
    const err = new WinsockError('WSASocketW', 10022, 'WSAEINVAL', 'An invalid argument was supplied.');
    expect(err).toBeInstanceOf(SocketHandoffError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'WinsockError', code: 'WSAEINVAL', errno: 10022, syscall: 'WSASocketW' });
    expect(err.message).toBe('WSASocketW WSAEINVAL (10022): An invalid argument was supplied.');
  });

  it('gives token errors a fixed code and a readable reason', () => {
    const err = new InvalidTokenError('628 bytes expected, got 3');
    expect(err).toMatchObject({ name: 'InvalidTokenError', code: 'ERR_INVALID_TOKEN', message: 'Invalid socket token: 628 bytes expected, got 3' });
  });

  it('names the argument and the allowed values', () => {
    expect(invalidArgValue('targetPid', 'a positive 32-bit integer', -1).message).toBe(
      'The "targetPid" argument must be a positive 32-bit integer. Received number -1',
    );
    expect(describeValue('x'.repeat(100))).toMatch(/…"$/);
    expect(describeValue(5n)).toBe('bigint 5n');
  });

  it('lists every code the source can produce in docs/errors.md', () => {
    const docs = fs.readFileSync(path.resolve(__dirname, '..', 'docs', 'errors.md'), 'utf8');
    const codes = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/'((?:ERR|WSA|ERROR|WIN32_ERROR)_?[A-Z0-9_]*[A-Z0-9])'/g)) codes.add(m[1]);
    }
    expect(codes.size).toBeGreaterThan(40);
    const missing = [...codes].filter((code) => !docs.includes('`' + code + '`'));
    expect(missing).toEqual([]);
  });
});
