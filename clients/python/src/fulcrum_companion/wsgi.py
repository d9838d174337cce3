"""WSGI middleware (Flask, Django, any PEP 3333 app): health paths, the load header, in-flight counting.

A request counts as in flight from the call into the application until the server closes the response
iterable (PEP 3333: the server calls `close()` after the last chunk, also on errors and client aborts), so
a streamed body counts until it is fully sent.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable

from .core import LOAD_HEADER, Companion

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
else:
    StartResponse = Callable[..., Any]
    WSGIApplication = Callable[..., Iterable[bytes]]
    WSGIEnvironment = dict[str, Any]


class _Counted:
    """The application's response iterable; ends the request once, when the server closes it."""

    def __init__(self, inner: Iterable[bytes], done: Callable[[], None]) -> None:
        self._inner = inner
        self._done = done
        self._closed = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class FulcrumWSGI:
    """Wraps a WSGI application: `app.wsgi_app = FulcrumWSGI(app.wsgi_app)` (Flask) or
    `application = FulcrumWSGI(get_wsgi_application())` (Django)."""

    def __init__(self, app: WSGIApplication, companion: Companion | None = None) -> None:
        self.app = app
        self.companion = companion if companion is not None else Companion()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        c = self.companion
        answer = c.health(environ.get("PATH_INFO", ""))
        if answer is not None:
            head = environ.get("REQUEST_METHOD") == "HEAD"
            start_response(
                f"{answer.status} {answer.reason}",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(answer.body))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [] if head else [answer.body]

        def start_with_load(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Computed when the headers go out: this request is one of those in flight.
            return start_response(status, [*headers, (LOAD_HEADER, c.load_header())], exc_info)

        c.begin()
        try:
            result = self.app(environ, start_with_load)
        except BaseException:
            c.end()
            raise
        return _Counted(result, c.end)
