"""The catalogue service on Flask, served by Werkzeug's threaded server (what `flask run` uses; it closes the
connection after each response, so Fulcrum opens one per request).

    python3 examples/python/flask_app.py --port 8002
"""
from __future__ import annotations

import time
from typing import Any

import catalogue
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from fulcrum_companion import FulcrumWSGI


def create_app(name: str) -> Flask:
    app = Flask("catalogue")

    @app.after_request
    def served_by(response: Response) -> Response:
        response.headers["X-Served-By"] = name
        return response

    def cacheable(document: dict[str, Any], tags: str) -> Response:
        etag = catalogue.etag_of(document)
        if catalogue.not_modified(request.headers.get("If-None-Match"), etag):
            response = Response(status=304)
        else:
            response = jsonify({**document, "served_at": catalogue.now()})
        response.headers.update({"Cache-Control": catalogue.CACHEABLE, "ETag": etag, catalogue.TAG_HEADER: tags})
        return response

    def uncached(document: dict[str, Any], status: int = 200) -> Response:
        response = jsonify(document)
        response.status_code = status
        response.headers["Cache-Control"] = catalogue.NO_STORE
        return response

    @app.get("/api/products")
    def products() -> Response:
        return cacheable(catalogue.product_list(), catalogue.list_tags())

    @app.get("/api/products/<int:product_id>")
    def product(product_id: int) -> Response:
        if product_id not in catalogue.PRODUCTS:
            return uncached({"error": "no such product"}, 404)
        return cacheable(catalogue.PRODUCTS[product_id], catalogue.product_tags(product_id))

    @app.get("/api/ping")
    def ping() -> Response:
        return uncached({"instance": name, "framework": "flask"})

    @app.get("/api/slow")
    def slow() -> Response:
        delay = catalogue.slow_ms(request.args.get("ms"))
        time.sleep(delay / 1000)
        return uncached({"instance": name, "slept_ms": delay})

    @app.post("/api/orders")
    def order() -> Response:
        status, document = catalogue.place_order(request.get_data())
        if status == 201:
            time.sleep(catalogue.ORDER_WORK_MS / 1000)
        return uncached({**document, "instance": name}, status)

    return app


if __name__ == "__main__":
    args = catalogue.parse_args("flask")
    app = create_app(args.name)
    server = make_server(args.host, args.port, app, threaded=True)
    if not args.access_log:
        server.RequestHandlerClass.log_request = lambda *a, **k: None  # type: ignore[method-assign]
    # The drain thread calls shutdown(), which waits for serve_forever() below to return.
    companion = catalogue.start_companion(args, stop_server=server.shutdown)
    app.wsgi_app = FulcrumWSGI(app.wsgi_app, companion)  # type: ignore[method-assign]
    catalogue.register_when_listening(args)
    server.serve_forever()
