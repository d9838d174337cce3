"""Draining on SIGTERM: report not-ready, let requests in flight finish (bounded), then exit.

Opt-in: `install_signal_handlers(companion)`. The handler only flips readiness and starts a thread; the
waiting happens there, so an event loop (ASGI) or a threaded server (WSGI) keeps serving meanwhile: requests
that arrive before the balancer's health check has seen the 503 (the `notice` period) are answered too.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from .core import Companion

log = logging.getLogger("fulcrum_companion")

DEFAULT_DRAIN_TIMEOUT = 30.0

ExitFn = Callable[[int], None]
_Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Drainer:
    """The installed handlers; `uninstall()` puts the previous ones back (tests, or a server taking over)."""

    def __init__(
        self,
        companion: Companion,
        timeout: float,
        notice: float,
        exit: ExitFn | None,
        before_wait: Iterable[Callable[[], None]],
        signals: Iterable[signal.Signals],
    ) -> None:
        self.companion = companion
        self.timeout = timeout
        self.notice = notice
        self._exit = exit
        self._before_wait = list(before_wait)
        self._previous: dict[signal.Signals, _Handler] = {}
        self._started = threading.Event()
        self._handing_back = threading.Event()
        self.thread: threading.Thread | None = None
        for sig in signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._handing_back.is_set():
            self._finish_in_main_thread(signum, frame)
            return
        if self._started.is_set():
            # A second signal while draining (a second Ctrl-C): the operator wants out now.
            self.uninstall()
            raise SystemExit(1)
        self._started.set()
        self.companion.start_draining()
        self.thread = threading.Thread(target=self._drain, args=(signum,), name="fulcrum-drain", daemon=True)
        self.thread.start()

    def _drain(self, signum: int) -> None:
        # Logged here, not in the handler: a handler that writes to a buffered stream can re-enter its write.
        log.info("draining: not ready; waiting up to %ss for %d request(s) in flight", self.timeout, self.companion.inflight)
        for hook in self._before_wait:
            try:
                hook()
            except Exception:  # a hook must not stop the drain
                log.exception("draining: a before_wait hook failed")
        if self.notice > 0:
            time.sleep(self.notice)  # still serving: the balancer has not seen the 503 yet
        if not self.companion.wait_idle(self.timeout):
            log.warning("draining: %d request(s) still in flight after %ss; exiting anyway", self.companion.inflight, self.timeout)
        if self._exit is not None:
            self._exit(0)
        else:
            self._hand_back(signum)

    def _hand_back(self, signum: int) -> None:
        """Default exit. Handlers can only change in the main thread, so the drain thread sends the signal again
        (Python runs handlers in the main thread: ours, once more), and `_finish_in_main_thread` exits."""
        self._handing_back.set()
        os.kill(os.getpid(), signum)

    def _finish_in_main_thread(self, signum: int, frame: FrameType | None) -> None:
        """Runs the previous handler (uvicorn's or gunicorn's own graceful stop), or raises SystemExit(0)
        when there was none."""
        previous = self._previous.get(signal.Signals(signum))
        self.uninstall()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(0)


def install_signal_handlers(
    companion: Companion,
    *,
    timeout: float = DEFAULT_DRAIN_TIMEOUT,
    notice: float = 0.0,
    exit: ExitFn | None = None,
    before_wait: Iterable[Callable[[], None]] = (),
    signals: Iterable[signal.Signals] = (signal.SIGTERM,),
) -> Drainer:
    """On SIGTERM: /healthz/ready answers 503, each `before_wait` hook runs (e.g. `registration.stop`), the
    instance keeps serving for `notice` seconds (set it to the balancer's health check interval times its
    unhealthy threshold, so that no new request arrives after the listener closes), then the drain waits until
    nothing is in flight or `timeout` seconds passed, then calls `exit(0)`.

    Without `exit`, the previous SIGTERM handler runs in the main thread (so the server's own shutdown still
    happens), or SystemExit(0) is raised there. A second signal during the drain stops at once: the previous
    handlers are put back and SystemExit(1) is raised in the main thread. Call from the main thread (Python's
    rule for signals)."""
    if notice < 0 or timeout < 0:
        raise ValueError("notice and timeout must be >= 0 seconds")
    return Drainer(companion, timeout, notice, exit, before_wait, signals)
