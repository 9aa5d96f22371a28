'use strict';
/**
 * A jest reporter that lists every skipped test by its full title at the end of the run. jest's own
 * reporters do not print the tests of a file whose tests were all skipped, so a platform-only file
 * (test/posix/*, say) would skip without a word. Titles of platform-only tests end with their reason
 * (test/support/platform.js), so this list says what did not run here and why.
 */
const path = require('node:path');

class SkippedReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const lines = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status !== 'pending' && test.status !== 'skipped' && test.status !== 'todo') continue;
        const where = path.relative(this.rootDir, file.testFilePath).split(path.sep).join('/');
        lines.push(`  ○ ${where}: ${[...test.ancestorTitles, test.title].join(' › ')}`);
      }
    }
    if (lines.length === 0) return;
    process.stderr.write(`\nSkipped here (${lines.length}):\n${lines.join('\n')}\n`);
  }
}

module.exports = SkippedReporter;
