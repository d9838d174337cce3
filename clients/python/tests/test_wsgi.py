from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

from fulcrum_companion import Companion, FulcrumWSGI
from support import wsgi_server


class Gates:
    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.seen_while_streaming: list[int] = []


def make_app(gates: Gates, companion: Companion) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/block":
            gates.entered.release()
            gates.release.wait(5)
        if path == "/stream":
            start_response("200 OK", [("Content-Type", "text/plain")])

            def body() -> Iterator[bytes]:
                yield b"one "
                gates.seen_while_streaming.append(companion.inflight)
                yield b"two"

            return body()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"hi"]

    return app


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def serve(capacity: int = 8) -> tuple[Companion, Gates, Any]:
    companion = Companion(capacity=capacity)
    gates = Gates()
    return companion, gates, wsgi_server(FulcrumWSGI(make_app(gates, companion), companion))


def test_live_and_ready_answer_200_while_ready() -> None:
    _, _, server = serve()
    with server as base:
        assert get(base + "/healthz/live")[0] == 200
        assert get(base + "/healthz/ready")[:3:2] == (200, b"ready\n")


def test_ready_answers_503_once_draining_starts_while_live_stays_200() -> None:
    companion, _, server = serve()
    with server as base:
        companion.start_draining()
        assert get(base + "/healthz/ready")[0] == 503
        assert get(base + "/healthz/live")[0] == 200
        assert get(base + "/ok")[0] == 200  # draining refuses nothing itself; the balancer stops sending


def test_a_lone_request_reports_itself_in_the_load_header() -> None:
    _, _, server = serve()
    with server as base:
        status, headers, body = get(base + "/ok")
        assert (status, body) == (200, b"hi")
        assert headers["X-Fulcrum-Load"] == "inflight=1, utilization=0.12"


def test_the_load_header_counts_concurrent_requests_and_utilization_may_exceed_one() -> None:
    companion, gates, server = serve(capacity=4)
    with server as base:
        blocked = [threading.Thread(target=get, args=(base + "/block",)) for _ in range(2)]
        for t in blocked:
            t.start()
        assert gates.entered.acquire(timeout=5) and gates.entered.acquire(timeout=5)
        assert get(base + "/ok")[1]["X-Fulcrum-Load"] == "inflight=3, utilization=0.75"
        companion.capacity = 2
        assert get(base + "/ok")[1]["X-Fulcrum-Load"] == "inflight=3, utilization=1.50"
        gates.release.set()
        for t in blocked:
            t.join(5)
        assert companion.wait_idle(5) and companion.inflight == 0


def test_a_streamed_body_counts_until_it_is_sent_then_inflight_returns_to_zero() -> None:
    companion, gates, server = serve()
    with server as base:
        status, _, body = get(base + "/stream")
        assert (status, body) == (200, b"one two")
        assert gates.seen_while_streaming == [1]
        assert companion.wait_idle(5) and companion.inflight == 0


def test_health_requests_are_not_counted_in_flight() -> None:
    companion, _, server = serve()
    with server as base:
        status, headers, _ = get(base + "/healthz/live")
        assert status == 200 and "X-Fulcrum-Load" not in headers
        assert companion.inflight == 0


def test_an_application_error_still_ends_the_request() -> None:
    companion = Companion()

    def failing(environ: Any, start_response: Any) -> Iterable[bytes]:
        raise RuntimeError("boom")

    with wsgi_server(FulcrumWSGI(failing, companion)) as base:
        assert get(base + "/x")[0] == 500
        assert companion.wait_idle(5) and companion.inflight == 0
