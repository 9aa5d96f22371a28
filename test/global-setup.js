'use strict';
// Every test loads the current source: unit tests compile src/ through ts-jest, and the
// cross-process fixtures (which run under Wine or other Node lines, without ts-jest) load dist/,
// so dist/ is rebuilt from src/ once before any test runs, also for a bare `npx jest`.
module.exports = async () => {
  require('../scripts/build')();
};
