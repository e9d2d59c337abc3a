#!/usr/bin/env bash
# The one test command (README, CI): install, lint + format check, type-check, then every jest project
# (unit tests, and integration tests against the local RabbitMQ / PostgreSQL). Ends with "N passed, M failed".
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pnpm() { bash "$root/scripts/pnpm.sh" "$@"; }

pnpm install --frozen-lockfile || exit 1
bash scripts/services.sh || exit 1

status=0
pnpm exec eslint . || status=1
pnpm exec prettier --check . >/dev/null || { pnpm exec prettier --list-different .; echo "prettier: files above need 'pnpm format'"; status=1; }
# Import circles (type-only imports excluded; only App <-> Worker allowed): .dependency-cruiser.cjs.
pnpm run --silent lint:imports || status=1
pnpm exec tsc -p tsconfig.json --noEmit || status=1

# Tests that start real processes (CLI, workers) run the built packages.
pnpm -r build >/dev/null || { pnpm -r build; status=1; }

# Jest runs our CommonJS in vm sandboxes; PGlite (the sample's embedded database) loads its parts with
# import(), which such a sandbox allows only with this flag. Production code needs no workaround for it.
export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning ${NODE_OPTIONS:-}"
mkdir -p .test-results
rm -f .test-results/jest*.json
pnpm exec jest --json --outputFile=.test-results/jest.json "$@" || status=1
# Tests that restart, block or cluster RabbitMQ: alone, one at a time, after everything else (--forceExit:
# a handle left by a failed fault test must not hold CI until its time limit).
QUEUE_TEST_SUITE=broker-faults pnpm exec jest --runInBand --passWithNoTests --forceExit \
  --json --outputFile=.test-results/jest-broker-faults.json "$@" || status=1
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of ["jest.json", "jest-broker-faults.json"]) {
    const path = `./.test-results/${file}`;
    if (!fs.existsSync(path)) { failed += 1; console.log(`${file}: jest wrote no results`); continue; }
    const r = JSON.parse(fs.readFileSync(path, "utf8"));
    const failedSuites = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    passed += r.numPassedTests; failed += r.numFailedTests + failedSuites; skipped += r.numPendingTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || status=1
exit $status
