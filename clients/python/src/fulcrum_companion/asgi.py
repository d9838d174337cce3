"""ASGI middleware (FastAPI, Starlette, any ASGI 3 app): health paths, the load header, in-flight counting.

An HTTP request counts as in flight until the application call returns. The application returns only after
its last body chunk was sent (a streamed response awaits each send), and after Starlette's background tasks,
which a drain must also wait for. Lifespan and websocket scopes pass through uncounted.
"""
from __future__ import annotations

from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable

from .core import LOAD_HEADER, Companion

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_LOAD_HEADER = LOAD_HEADER.lower().encode("latin-1")


class FulcrumASGI:
    """Wraps an ASGI application: `app.add_middleware(FulcrumASGI)` (FastAPI/Starlette) or
    `app = FulcrumASGI(app, companion)`."""

    def __init__(self, app: ASGIApp, companion: Companion | None = None) -> None:
        self.app = app
        self.companion = companion if companion is not None else Companion()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        c = self.companion
        answer = c.health(scope.get("path", ""))
        if answer is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(answer.body)).encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            body = b"" if scope.get("method") == "HEAD" else answer.body
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_load(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A copy: the application may reuse its header list.
                headers = [*message.get("headers", ()), (_LOAD_HEADER, c.load_header().encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        c.begin()
        try:
            await self.app(scope, receive, send_with_load)
        finally:
            c.end()
