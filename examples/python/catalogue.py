"""The catalogue service: its data, its HTTP caching rules and its command line, shared by the three versions
(fastapi_app.py, flask_app.py, django_app.py) so that they differ only in what their framework does.

Endpoints, the same in all three:
  GET /api/products          the product list: cacheable (Cache-Control, weak ETag, Surrogate-Key: catalogue products)
  GET /api/products/{id}     one product: cacheable (Surrogate-Key: catalogue product-{id} category-{category});
                             404 when unknown
  GET /api/ping              fast and never cached: which instance answered
  GET /api/slow?ms=300       slow (sleeps ms, at most 5000) and never cached: a report that takes a while
  POST /api/orders           {"product_id": 3, "quantity": 1} -> 201 after 100 ms of work; never retried by
                             Fulcrum once sent (it has a body and is not idempotent), so a lost one shows
  GET /healthz/live, /healthz/ready   the companion's health endpoints
GET routes answer HEAD too. Every response says which instance served it in X-Served-By.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import fulcrum_companion  # noqa: F401  (installed with pip install ./clients/python)
except ImportError:  # run from the repository: use the companion beside it
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))

from fulcrum_companion import Companion, Registration, install_signal_handlers

PRODUCTS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Espresso cup", "category": "kitchen", "price": 9.5},
    2: {"id": 2, "name": "Moka pot", "category": "kitchen", "price": 34.0},
    3: {"id": 3, "name": "Chef's knife", "category": "kitchen", "price": 79.0},
    4: {"id": 4, "name": "Linen apron", "category": "kitchen", "price": 24.0},
    5: {"id": 5, "name": "Desk lamp", "category": "office", "price": 45.0},
    6: {"id": 6, "name": "Notebook, dotted", "category": "office", "price": 12.0},
    7: {"id": 7, "name": "Fountain pen", "category": "office", "price": 58.0},
    8: {"id": 8, "name": "Trail shoes", "category": "outdoor", "price": 129.0},
    9: {"id": 9, "name": "Rain jacket", "category": "outdoor", "price": 149.0},
    10: {"id": 10, "name": "Water bottle", "category": "outdoor", "price": 19.0},
}

# Shared caches (Fulcrum) may keep reads for a minute and serve them stale for another while refreshing.
CACHEABLE = "public, max-age=60, stale-while-revalidate=30"
NO_STORE = "no-store"
TAG_HEADER = "Surrogate-Key"
SLOW_DEFAULT_MS = 300
SLOW_MAX_MS = 5000
ORDER_WORK_MS = 100


def etag_of(document: Any) -> str:
    """A weak ETag: it covers the document, not the served_at beside it, so the bodies are only equivalent."""
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
    return f'W/"{digest}"'


def product_list() -> dict[str, Any]:
    return {"products": [{"id": p["id"], "name": p["name"], "price": p["price"]} for p in PRODUCTS.values()]}


def list_tags() -> str:
    return "catalogue products"


def product_tags(product_id: int) -> str:
    return f"catalogue product-{product_id} category-{PRODUCTS[product_id]['category']}"


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional GET's If-None-Match matches (weak comparison, as RFC 9110 asks for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def slow_ms(raw: str | None) -> int:
    """The requested delay, clamped to [0, SLOW_MAX_MS]; a malformed one falls back to the default."""
    try:
        return max(0, min(int(raw if raw is not None else SLOW_DEFAULT_MS), SLOW_MAX_MS))
    except ValueError:
        return SLOW_DEFAULT_MS


def place_order(raw: bytes) -> tuple[int, dict[str, Any]]:
    """Validates an order; (201, order) or (400, error). The caller spends ORDER_WORK_MS on it (payment)."""
    try:
        payload = json.loads(raw)
        product_id, quantity = payload["product_id"], payload.get("quantity", 1)
    except (ValueError, TypeError, KeyError):
        return 400, {"error": 'expected a JSON object {"product_id": int, "quantity": int}'}
    if type(product_id) is not int or product_id not in PRODUCTS or type(quantity) is not int or not 1 <= quantity <= 100:
        return 400, {"error": "unknown product_id or quantity outside 1..100"}
    total = round(PRODUCTS[product_id]["price"] * quantity, 2)
    return 201, {"order": {"product_id": product_id, "quantity": quantity, "total": total}}


def parse_args(framework: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=f"The catalogue service ({framework}), behind Fulcrum.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--name", help="shown in X-Served-By (default: FRAMEWORK:PORT)")
    parser.add_argument("--capacity", type=int, default=8, help="requests at once that count as fully busy in the load report")
    parser.add_argument("--drain-notice", type=float, default=3.0,
                        help="seconds to keep serving after turning not-ready on SIGTERM (Fulcrum's check interval x unhealthy, plus margin)")
    parser.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for requests in flight on SIGTERM")
    parser.add_argument("--register", metavar="ADMIN_URL", help="register with this Fulcrum admin API (token in FULCRUM_ADMIN_TOKEN)")
    parser.add_argument("--pool", default="catalogue", help="the pool to register in")
    parser.add_argument("--advertise", metavar="URL", help="where Fulcrum reaches this instance (default: http://HOST:PORT)")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="seconds between registration heartbeats")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args()
    if args.register and not args.advertise and args.host in ("0.0.0.0", "::", ""):
        parser.error(f"--register with --host {args.host!r}: say where Fulcrum reaches this instance with --advertise")
    args.name = args.name or f"{framework}:{args.port}"
    args.framework = framework
    return args


def start_companion(args: argparse.Namespace, stop_server: Callable[[], None]) -> Companion:
    """The companion's process side: SIGTERM (or Ctrl-C) drains (leave the pool if registered, turn not-ready, keep serving for
    `--drain-notice` seconds so Fulcrum's health check sees it, wait for requests in flight) and then calls
    `stop_server` from the drain thread. Call from the main thread before serving."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.name} %(levelname)s %(message)s")
    companion = Companion(capacity=args.capacity)
    before_wait: list[Callable[[], None]] = []
    if args.register:
        registration = Registration(
            args.register,
            os.environ.get("FULCRUM_ADMIN_TOKEN"),
            pool=args.pool,
            url=args.advertise or f"http://{args.host}:{args.port}",
            heartbeat=args.heartbeat,
        )
        args.registration = registration
        before_wait.append(registration.stop)
    install_signal_handlers(
        companion,
        notice=args.drain_notice,
        timeout=args.drain_timeout,
        before_wait=before_wait,
        exit=lambda _code: stop_server(),
        signals=(signal.SIGTERM, signal.SIGINT),  # Ctrl-C drains (and deregisters) too
    )
    return companion


def register_when_listening(args: argparse.Namespace) -> None:
    """Self-registration starts once the socket accepts connections, so Fulcrum never sees a refused connect."""
    registration: Registration | None = getattr(args, "registration", None)
    if registration is not None:
        registration.start()
    logging.getLogger("catalogue").info("%s listening on http://%s:%d", args.name, args.host, args.port)


def now() -> float:
    return round(time.time(), 3)
