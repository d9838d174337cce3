"""Self-registration with Fulcrum's admin API: add this instance to a pool, keep it there, remove it.

POST /api/pools/{pool}/registrations on start and on every heartbeat, with a time to live of three heartbeats
(200: registered or renewed; 409: the config file lists this backend, so it is there anyway); DELETE
/api/pools/{pool}/registrations/{origin} on stop. Fulcrum removes a registration whose heartbeats stop (the
instance was killed), after its TTL. Registrations are runtime changes: a reload from disk drops them and the next
heartbeat adds this one back. Never raises into the application: failures are logged and retried on the next
heartbeat.
"""
from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Literal

log = logging.getLogger("fulcrum_companion")

Outcome = Literal["added", "present", "removed", "absent", "failed"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The backend id Fulcrum uses: the URL's origin as WHATWG URL computes it (scheme and host lowercased,
    default port dropped)."""
    u = urllib.parse.urlsplit(url)
    scheme = u.scheme.lower()
    host = (u.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = u.port
    return f"{scheme}://{host}" if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{scheme}://{host}:{port}"


class Registration:
    """`Registration(admin_url, token, pool, url).start()` when the service is ready; `.stop()` on shutdown
    (or pass `registration.stop` to `install_signal_handlers(before_wait=[...])`)."""

    def __init__(
        self,
        admin_url: str,
        token: str | None,
        pool: str,
        url: str,
        weight: int = 1,
        heartbeat: float = 5.0,
        timeout: float = 2.0,
    ) -> None:
        if heartbeat <= 0 or timeout <= 0:
            raise ValueError("heartbeat and timeout must be > 0 seconds")
        self.admin_url = admin_url.rstrip("/")
        self.token = token
        self.pool = pool
        self.url = url
        self.weight = weight
        self.heartbeat = heartbeat
        self.timeout = timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool_path = f"{self.admin_url}/api/pools/{urllib.parse.quote(pool, safe='')}/registrations"

    def start(self) -> Outcome:
        """Registers once (bounded by `timeout`), then heartbeats in a daemon thread."""
        outcome = self.register()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="fulcrum-registration", daemon=True)
            self._thread.start()
        return outcome

    def stop(self) -> Outcome:
        """Stops the heartbeat, then removes this backend from the pool (its requests in flight finish)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 1)
        status = self._call("DELETE", f"{self._pool_path}/{urllib.parse.quote(origin_of(self.url), safe='')}")
        if status == 200:
            log.info("registration: removed %s from pool %s", self.url, self.pool)
            return "removed"
        return "absent" if status == 404 else "failed"

    def register(self) -> Outcome:
        """One POST: 'added' (registered or renewed), 'present' (409: the config lists it) or 'failed' (logged; retried)."""
        # Three heartbeats: one lost heartbeat does not drop the instance, a dead one is gone soon after.
        body = json.dumps({"url": self.url, "weight": self.weight, "ttl": round(self.heartbeat * 3 * 1000)}).encode()
        status = self._call("POST", self._pool_path, body)
        if status is not None and 200 <= status < 300:
            log.info("registration: added %s to pool %s (weight %d)", self.url, self.pool, self.weight)
            return "added"
        if status == 409:
            return "present"
        return "failed"

    def _run(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self.register()

    def _call(self, method: str, url: str, body: bytes | None = None) -> int | None:
        # Fulcrum takes an admin mutation only as JSON, with a body or without one (its CSRF defence).
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as e:
            if e.code not in (404, 409):
                log.warning("registration: %s %s answered %d: %s", method, url, e.code, e.read(2048).decode("utf-8", "replace"))
            return e.code
        except Exception as e:  # URLError, timeouts, resets: never into the application
            log.warning("registration: %s %s failed: %s", method, url, e)
            return None
