"""The catalogue service on Django, as a one-file project, served by Django's threaded HTTP/1.1 server (what
`manage.py runserver` uses, keep-alive included).

    python3 examples/python/django_app.py --port 8003
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import catalogue
import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fulcrum_companion import FulcrumWSGI

NAME = "django"


def served_by(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Says which instance answered; sets Content-Length so that the server keeps the connection open (not on
    204/304, which have no body to measure), and empties HEAD bodies, which Django's server would send."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["X-Served-By"] = NAME
        if not response.streaming and response.status_code not in (204, 304):
            response["Content-Length"] = str(len(response.content))
            if request.method == "HEAD":
                response.content = b""  # the GET's Content-Length stays; stray bytes would corrupt the next response
        return response

    return middleware


def cacheable(request: HttpRequest, document: dict[str, Any], tags: str) -> HttpResponse:
    etag = catalogue.etag_of(document)
    if catalogue.not_modified(request.headers.get("If-None-Match"), etag):
        response = HttpResponseNotModified()  # no Content-Type, no body
    else:
        response = JsonResponse({**document, "served_at": catalogue.now()})
    response["Cache-Control"] = catalogue.CACHEABLE
    response["ETag"] = etag
    response[catalogue.TAG_HEADER] = tags
    return response


def uncached(document: dict[str, Any], status: int = 200) -> HttpResponse:
    response = JsonResponse(document, status=status)
    response["Cache-Control"] = catalogue.NO_STORE
    return response


def products(request: HttpRequest) -> HttpResponse:
    return cacheable(request, catalogue.product_list(), catalogue.list_tags())


def product(request: HttpRequest, product_id: int) -> HttpResponse:
    if product_id not in catalogue.PRODUCTS:
        return uncached({"error": "no such product"}, 404)
    return cacheable(request, catalogue.PRODUCTS[product_id], catalogue.product_tags(product_id))


def ping(request: HttpRequest) -> HttpResponse:
    return uncached({"instance": NAME, "framework": "django"})


def slow(request: HttpRequest) -> HttpResponse:
    delay = catalogue.slow_ms(request.GET.get("ms"))
    time.sleep(delay / 1000)
    return uncached({"instance": NAME, "slept_ms": delay})


@csrf_exempt  # an API called with JSON, not a form
@require_POST
def order(request: HttpRequest) -> HttpResponse:
    status, document = catalogue.place_order(request.body)
    if status == 201:
        time.sleep(catalogue.ORDER_WORK_MS / 1000)
    return uncached({**document, "instance": NAME}, status)


urlpatterns = [
    path("api/products", products),
    path("api/products/<int:product_id>", product),
    path("api/ping", ping),
    path("api/slow", slow),
    path("api/orders", order),
]


if __name__ == "__main__":
    args = catalogue.parse_args("django")
    NAME = args.name
    settings.configure(
        DEBUG=False,
        SECRET_KEY="catalogue-example-not-secret",  # no sessions, no signing: Django only insists on one
        ALLOWED_HOSTS=["*"],  # Fulcrum passes the client's Host through
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[f"{__name__}.served_by"],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        # The head and the body leave in separate writes: with Nagle's algorithm on, the body waits for the
        # client's delayed ACK, about 40 ms, on every response of a kept-alive connection.
        disable_nagle_algorithm = True

        if not args.access_log:

            def log_message(self, format: str, *values: object) -> None:
                pass

    server = ThreadedWSGIServer((args.host, args.port), Handler)
    # The drain thread calls shutdown(), which waits for serve_forever() below to return.
    companion = catalogue.start_companion(args, stop_server=server.shutdown)
    server.set_app(FulcrumWSGI(WSGIHandler(), companion))
    catalogue.register_when_listening(args)
    server.serve_forever()
