#!/bin/sh
# The demo (`npm start`): builds the dashboard once if it is not built, then runs Fulcrum on its embedded config.
set -e
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="sh $ROOT/scripts/node.sh"
if [ ! -f "$ROOT/packages/dashboard/dist/index.html" ]; then
  (cd "$ROOT/packages/dashboard" && $NODE "$ROOT/node_modules/vite/bin/vite.js" build --logLevel warn)
fi
exec $NODE "$ROOT/packages/server/bin/fulcrum.ts" demo "$@"
