'use strict';
// npm run build (and jest's globalSetup, and `prepare` before npm pack): removes dist/, then
// compiles src/ with tsc, so that dist/ never holds a module whose source is gone.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.resolve(__dirname, '..');

function build() {
  fs.rmSync(path.join(repo, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [repo] }), '-p', path.join(repo, 'tsconfig.json')], {
    cwd: repo,
    stdio: 'inherit',
  });
}

module.exports = build;
if (require.main === module) build();
