from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fulcrum_companion import Companion, FulcrumASGI


class App:
    """A tiny ASGI app: /ok answers at once, /block waits for `release`, /stream sends two chunks."""

    def __init__(self, companion: Companion) -> None:
        self.companion = companion
        self.entered = 0
        self.all_entered = asyncio.Event()
        self.release = asyncio.Event()
        self.expected = 0
        self.seen_while_streaming: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await send({"type": "lifespan.startup.complete"})
            return
        path = scope["path"]
        if path == "/block":
            self.entered += 1
            if self.entered >= self.expected:
                self.all_entered.set()
            await self.release.wait()
        if path == "/fail":
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        if path == "/stream":
            await send({"type": "http.response.body", "body": b"one ", "more_body": True})
            self.seen_while_streaming.append(self.companion.inflight)
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"hi"})


async def call(app: Any, path: str, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [], "query_string": b""}
    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


def make_app(capacity: int = 8) -> tuple[Companion, App, FulcrumASGI]:
    companion = Companion(capacity=capacity)
    inner = App(companion)
    return companion, inner, FulcrumASGI(inner, companion)


def test_live_and_ready_answer_200_then_ready_answers_503_once_draining() -> None:
    companion, _, app = make_app()

    async def run() -> None:
        assert (await call(app, "/healthz/live"))[0] == 200
        assert (await call(app, "/healthz/ready"))[::2] == (200, b"ready\n")
        companion.start_draining()
        assert (await call(app, "/healthz/ready"))[::2] == (503, b"draining\n")
        assert (await call(app, "/healthz/live"))[0] == 200
        assert (await call(app, "/healthz/ready", "HEAD"))[::2] == (503, b"")

    asyncio.run(run())


def test_the_load_header_counts_concurrent_requests() -> None:
    companion, inner, app = make_app(capacity=4)

    async def run() -> None:
        inner.expected = 2
        blocked = [asyncio.create_task(call(app, "/block")) for _ in range(2)]
        await asyncio.wait_for(inner.all_entered.wait(), 5)
        _, headers, _ = await call(app, "/ok")
        assert headers[b"x-fulcrum-load"] == b"inflight=3, utilization=0.75"
        inner.release.set()
        results = await asyncio.gather(*blocked)
        assert sorted(h[b"x-fulcrum-load"] for _, h, _ in results) == [b"inflight=1, utilization=0.25", b"inflight=2, utilization=0.50"]
        assert companion.inflight == 0

    asyncio.run(run())


def test_a_streamed_body_counts_until_its_last_chunk_then_inflight_returns_to_zero() -> None:
    companion, inner, app = make_app()

    async def run() -> None:
        status, _, body = await call(app, "/stream")
        assert (status, body) == (200, b"one hi")
        assert inner.seen_while_streaming == [1]
        assert companion.inflight == 0

    asyncio.run(run())


def test_an_application_error_still_ends_the_request() -> None:
    companion, _, app = make_app()
    with pytest.raises(RuntimeError):
        asyncio.run(call(app, "/fail"))
    assert companion.inflight == 0


def test_lifespan_passes_through_uncounted() -> None:
    companion, _, app = make_app()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.complete"}] and companion.inflight == 0
