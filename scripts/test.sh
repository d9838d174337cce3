#!/bin/sh
# The whole test suite: type checks, lint (eslint.config.js, the import directions among its rules), every test of
# the server with real sockets and real services (the Python examples among them), the Python companion's type
# check (mypy --strict) and tests, then the dashboard: its build (which the admin listener serves), component
# tests, and end to end in Chromium.
set -e
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
NODE="sh $ROOT/scripts/node.sh"
# Debian's python3 sees the python3-* packages (Flask, FastAPI, Django, pytest); a pyenv python3 may not.
FULCRUM_PYTHON="${FULCRUM_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}"
export FULCRUM_PYTHON
$NODE node_modules/typescript/bin/tsc -p packages/server --noEmit
$NODE node_modules/eslint/bin/eslint.js .
$NODE --test --test-concurrency=2 --test-timeout=30000 "packages/server/test/**/*.test.ts"
"$FULCRUM_PYTHON" -m mypy --strict --cache-dir=/dev/null clients/python/src
PYTHONDONTWRITEBYTECODE=1 "$FULCRUM_PYTHON" -m pytest clients/python -q -p no:cacheprovider
(
  cd packages/dashboard
  $NODE "$ROOT/node_modules/typescript/bin/tsc" -p . --noEmit
  $NODE "$ROOT/node_modules/vite/bin/vite.js" build --logLevel warn
  $NODE "$ROOT/node_modules/vitest/vitest.mjs" run
)
$NODE --test --test-timeout=90000 "packages/dashboard/e2e/*.e2e.ts"
