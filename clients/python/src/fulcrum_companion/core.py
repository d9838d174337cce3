"""The state every middleware shares: requests in flight, readiness, and the load report.

One `Companion` per process, created at start and handed to the WSGI or ASGI middleware (and to the drain
handler). It holds no I/O: the middlewares ask it what to answer and tell it when a request starts and ends.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Literal

Readiness = Literal["ready", "draining"]

LOAD_HEADER = "X-Fulcrum-Load"
DEFAULT_CAPACITY = 8
DEFAULT_LIVE_PATH = "/healthz/live"
DEFAULT_READY_PATH = "/healthz/ready"


@dataclass(frozen=True)
class HealthAnswer:
    """What to send for a health path: status code, reason phrase and a short text body."""

    status: int
    reason: str
    body: bytes


class Companion:
    """Counts requests in flight (thread-safe; also safe on an event loop: the lock is never held across an
    await) and knows whether the instance is ready or draining."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        live_path: str = DEFAULT_LIVE_PATH,
        ready_path: str = DEFAULT_READY_PATH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: must be >= 1, got {capacity}")
        self.capacity = capacity
        self.live_path = live_path
        self.ready_path = ready_path
        self._clock = clock
        self._inflight = 0
        self._state: Readiness = "ready"
        self._idle = threading.Condition(threading.Lock())

    @property
    def inflight(self) -> int:
        return self._inflight

    @property
    def state(self) -> Readiness:
        return self._state

    def begin(self) -> None:
        """A request reached the application."""
        with self._idle:
            self._inflight += 1

    def end(self) -> None:
        """A request is done: its body was sent (or it failed). Call exactly once per `begin`."""
        with self._idle:
            self._inflight -= 1
            if self._inflight <= 0:
                self._idle.notify_all()

    def load_header(self) -> str:
        """The load report, in the spirit of Envoy's ORCA: in-flight requests and their share of capacity.
        Not capped (like ORCA's application_utilization): 8 and 80 in flight must not look the same."""
        n = self._inflight
        return f"inflight={n}, utilization={n / self.capacity:.2f}"

    def start_draining(self) -> None:
        """From now on /healthz/ready answers 503, so the balancer stops sending new requests."""
        self._state = "draining"

    def wait_idle(self, timeout: float) -> bool:
        """Blocks until no request is in flight or `timeout` seconds passed; True when idle."""
        deadline = self._clock() + timeout
        with self._idle:
            while self._inflight > 0:
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def health(self, path: str) -> HealthAnswer | None:
        """The answer for a health path, or None when `path` is not one (the application handles it)."""
        if path == self.live_path:
            return HealthAnswer(200, "OK", b"live\n")
        if path == self.ready_path:
            if self._state == "ready":
                return HealthAnswer(200, "OK", b"ready\n")
            return HealthAnswer(503, "Service Unavailable", b"draining\n")
        return None
