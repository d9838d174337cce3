#!/bin/sh
# The Python stack in one command: a Redis for the cache, the catalogue service on FastAPI (:8001), Flask (:8002)
# and Django (:8003), and Fulcrum in front (:8080, dashboard on :9090). Ctrl-C stops everything.
# Debian packages only: redis-server python3-fastapi python3-uvicorn python3-flask python3-django.
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# Debian's python3, which sees the python3-* packages (a pyenv or venv python3 first on PATH may not).
PYTHON="${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)}"
REDIS_PORT="${REDIS_PORT:-6380}"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export FULCRUM_ADMIN_TOKEN="${FULCRUM_ADMIN_TOKEN:-catalogue-demo-admin-token}"

pids=""
cleanup() {
  trap - INT TERM EXIT
  # SIGTERM: each instance drains (not ready, finishes what it serves) and exits; Fulcrum drains too.
  # One may be gone already (the README's "kill one"): under set -e a failed kill would skip the wait.
  [ -n "$pids" ] && kill $pids 2>/dev/null || true
  wait 2>/dev/null
}
trap cleanup INT TERM EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning &
pids="$pids $!"
"$PYTHON" "$HERE/fastapi_app.py" --port 8001 & pids="$pids $!"
"$PYTHON" "$HERE/flask_app.py" --port 8002 & pids="$pids $!"
"$PYTHON" "$HERE/django_app.py" --port 8003 & pids="$pids $!"

if [ ! -f "$ROOT/packages/dashboard/dist/index.html" ]; then
  (cd "$ROOT/packages/dashboard" && sh "$ROOT/scripts/node.sh" "$ROOT/node_modules/vite/bin/vite.js" build --logLevel warn)
fi
echo "catalogue: http://127.0.0.1:8080/api/products  dashboard: http://127.0.0.1:9090/ (token: $FULCRUM_ADMIN_TOKEN)"
sh "$ROOT/scripts/node.sh" "$ROOT/packages/server/bin/fulcrum.ts" start --config "$HERE/fulcrum.yaml" &
pids="$pids $!"
wait
