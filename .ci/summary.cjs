// Prints "N passed, N failed" from jest's --json output and the consumer check's JSON, and
// exits non-zero on any failure. A step that failed without writing results (type-check, lint,
// install) counts as one failure.
const { existsSync, readFileSync } = require('node:fs');

const [jestFile, jestStatus, consumersFile, consumersStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;

function add(file, status, read) {
  let stepFailed = 0;
  if (file && existsSync(file)) {
    const counts = read(JSON.parse(readFileSync(file, 'utf8')));
    passed += counts.passed;
    stepFailed = counts.failed;
  }
  if (Number(status) !== 0 && stepFailed === 0) stepFailed = 1;
  failed += stepFailed;
}

add(jestFile, jestStatus, (r) => ({
  passed: r.numPassedTests,
  // Skipped or todo tests are not allowed in CI.
  failed: r.numFailedTests + r.numRuntimeErrorTestSuites + r.numPendingTests + r.numTodoTests,
}));
if (consumersStatus !== undefined) {
  add(consumersFile, consumersStatus, (r) => ({ passed: r.passed, failed: r.failed }));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
