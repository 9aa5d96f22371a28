/** The pid file: written beside, renamed into place; a stale one is replaced; failures are ERR_PID_FILE. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { preparePidFile, readPidFile } from '../../src/upgrader/pid-file';

describe('pid file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pid-file-test-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces a stale file only on commit, atomically, and leaves no temporary file', () => {
    const file = path.join(dir, 'shop.pid');
    fs.writeFileSync(file, '999999\n');
    const pending = preparePidFile(file, 4242);
    expect(readPidFile(file)).toBe(999999); // still the old one until commit
    expect(fs.readdirSync(dir)).toHaveLength(2);
    pending.commit();
    expect(fs.readFileSync(file, 'utf8')).toBe('4242\n');
    expect(fs.readdirSync(dir)).toEqual(['shop.pid']);
  });

  it('discard() removes the temporary file and keeps the old one', () => {
    const file = path.join(dir, 'shop.pid');
    fs.writeFileSync(file, 'garbage');
    preparePidFile(file, 7).discard();
    expect(fs.readdirSync(dir)).toEqual(['shop.pid']);
    expect(readPidFile(file)).toBeUndefined();
  });

  it('a file that cannot be written is ERR_PID_FILE, with the cause', () => {
    expect(() => preparePidFile(path.join(dir, 'missing', 'shop.pid'))).toThrow(
      expect.objectContaining({ code: 'ERR_PID_FILE', cause: expect.objectContaining({ code: 'ENOENT' }) }),
    );
  });
});
