// Prints "N passed, N failed" from jest's --json output and exits non-zero on any failure.
// A failed type-check or lint (no jest output, or a non-zero npm status) counts as one failure.
const { existsSync, readFileSync } = require('node:fs');

const [file, npmStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
if (existsSync(file)) {
  const results = JSON.parse(readFileSync(file, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
  // Pending (skipped) tests are not allowed in CI.
  failed += results.numPendingTests + results.numTodoTests;
}
if (Number(npmStatus) !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
