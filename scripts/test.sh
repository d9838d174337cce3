#!/bin/sh
# The whole test suite: type checks, every test of the server with real sockets and real services, then the
# dashboard: its build (which the admin listener serves), component tests, and end to end in Chromium.
set -e
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
NODE="sh $ROOT/scripts/node.sh"
$NODE node_modules/typescript/bin/tsc -p packages/server --noEmit
$NODE --test --test-concurrency=2 --test-timeout=30000 "packages/server/test/**/*.test.ts"
(
  cd packages/dashboard
  $NODE "$ROOT/node_modules/typescript/bin/tsc" -p . --noEmit
  $NODE "$ROOT/node_modules/vite/bin/vite.js" build --logLevel warn
  $NODE "$ROOT/node_modules/vitest/vitest.mjs" run
)
$NODE --test --test-timeout=90000 "packages/dashboard/e2e/*.e2e.ts"
