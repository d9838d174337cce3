#!/bin/sh
# The whole test suite: type check, then every test of the server with real sockets and real services.
set -e
cd "$(dirname "$0")/.."
NODE="sh scripts/node.sh"
$NODE node_modules/typescript/bin/tsc -p packages/server --noEmit
$NODE --test --test-concurrency=2 --test-timeout=30000 "packages/server/test/**/*.test.ts"
