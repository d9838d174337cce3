from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from fulcrum_companion import Companion, FulcrumWSGI, install_signal_handlers
from support import wsgi_server
from test_wsgi import Gates, get, make_app


@pytest.fixture
def restore_sigterm() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


class Exits:
    def __init__(self, companion: Companion) -> None:
        self.companion = companion
        self.calls: list[tuple[int, int]] = []  # (code, in flight at exit)
        self.done = threading.Event()

    def __call__(self, code: int) -> None:
        self.calls.append((code, self.companion.inflight))
        self.done.set()


def test_sigterm_reports_not_ready_and_waits_for_the_request_in_flight_before_exiting(restore_sigterm: None) -> None:
    companion = Companion()
    gates = Gates()
    exits = Exits(companion)
    hooks: list[str] = []
    install_signal_handlers(companion, timeout=5, exit=exits, before_wait=[lambda: hooks.append("deregistered")])
    with wsgi_server(FulcrumWSGI(make_app(gates, companion), companion)) as base:
        result: list[Any] = []
        client = threading.Thread(target=lambda: result.append(get(base + "/block")))
        client.start()
        assert gates.entered.acquire(timeout=5)

        signal.raise_signal(signal.SIGTERM)

        assert get(base + "/healthz/ready")[0] == 503
        assert not exits.done.wait(0.2), "exited while a request was still in flight"
        gates.release.set()
        assert exits.done.wait(5)
        client.join(5)
    assert exits.calls == [(0, 0)]
    assert hooks == ["deregistered"]
    assert result[0][0] == 200


def test_the_drain_exits_anyway_when_the_timeout_passes(restore_sigterm: None) -> None:
    companion = Companion()
    exits = Exits(companion)
    install_signal_handlers(companion, timeout=0.1, exit=exits)
    companion.begin()  # a request that never finishes
    signal.raise_signal(signal.SIGTERM)
    assert exits.done.wait(5)
    assert exits.calls == [(0, 1)]


def test_without_an_exit_function_the_previous_handler_runs_in_the_main_thread(restore_sigterm: None) -> None:
    companion = Companion()
    seen: list[str] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(threading.current_thread().name))
    drainer = install_signal_handlers(companion, timeout=1)
    signal.raise_signal(signal.SIGTERM)
    assert drainer.thread is not None
    drainer.thread.join(5)
    for _ in range(3):  # the simulated signal runs at the main thread's next bytecode check
        pass
    assert seen == ["MainThread"]
    assert signal.getsignal(signal.SIGTERM) is not drainer._on_signal


def test_during_the_notice_period_new_requests_are_still_served_before_the_drain_exits(restore_sigterm: None) -> None:
    companion = Companion()
    exits = Exits(companion)
    install_signal_handlers(companion, timeout=5, notice=0.5, exit=exits)
    with wsgi_server(FulcrumWSGI(make_app(Gates(), companion), companion)) as base:
        signal.raise_signal(signal.SIGTERM)
        assert get(base + "/healthz/ready")[0] == 503
        assert get(base + "/ok")[0] == 200  # the balancer has not seen the 503 yet: still answered
        assert not exits.done.wait(0.2), "exited before the notice period was over"
        assert exits.done.wait(5)
    assert exits.calls == [(0, 0)]


def test_a_second_signal_while_draining_stops_at_once(restore_sigterm: None) -> None:
    companion = Companion()
    exits = Exits(companion)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    drainer = install_signal_handlers(companion, timeout=5, exit=exits, signals=(signal.SIGTERM, signal.SIGINT))
    companion.begin()  # keeps the drain waiting
    try:
        signal.raise_signal(signal.SIGTERM)  # the first: drains, as before
        assert companion.state == "draining" and not exits.done.is_set()
        with pytest.raises(SystemExit) as stopped:
            signal.raise_signal(signal.SIGINT)  # the second (a second Ctrl-C): out now
        assert stopped.value.code == 1
        assert {sig: signal.getsignal(sig) for sig in previous} == previous
        assert not exits.done.is_set()
    finally:
        companion.end()  # lets the drain thread finish
        assert drainer.thread is not None
        drainer.thread.join(5)
