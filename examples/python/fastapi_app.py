"""The catalogue service on FastAPI, served by uvicorn.

    python3 examples/python/fastapi_app.py --port 8001
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib

import catalogue
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from fulcrum_companion import FulcrumASGI


def create_app(name: str) -> FastAPI:
    app = FastAPI(title="catalogue", openapi_url=None, docs_url=None, redoc_url=None)
    GET_HEAD = ["GET", "HEAD"]  # FastAPI's @app.get answers HEAD with 405; Flask and Django answer it (uvicorn sends no body)

    @app.middleware("http")
    async def served_by(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["X-Served-By"] = name
        return response

    def cacheable(request: Request, document: dict, tags: str) -> Response:
        etag = catalogue.etag_of(document)
        headers = {"Cache-Control": catalogue.CACHEABLE, "ETag": etag, catalogue.TAG_HEADER: tags}
        if catalogue.not_modified(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return JSONResponse({**document, "served_at": catalogue.now()}, headers=headers)

    @app.api_route("/api/products", methods=GET_HEAD)
    async def products(request: Request) -> Response:
        return cacheable(request, catalogue.product_list(), catalogue.list_tags())

    @app.api_route("/api/products/{product_id}", methods=GET_HEAD)
    async def product(product_id: int, request: Request) -> Response:
        if product_id not in catalogue.PRODUCTS:
            return JSONResponse({"error": "no such product"}, status_code=404, headers={"Cache-Control": catalogue.NO_STORE})
        return cacheable(request, catalogue.PRODUCTS[product_id], catalogue.product_tags(product_id))

    @app.api_route("/api/ping", methods=GET_HEAD)
    async def ping() -> Response:
        return JSONResponse({"instance": name, "framework": "fastapi"}, headers={"Cache-Control": catalogue.NO_STORE})

    @app.api_route("/api/slow", methods=GET_HEAD)
    async def slow(ms: str | None = None) -> Response:
        delay = catalogue.slow_ms(ms)
        await asyncio.sleep(delay / 1000)
        return JSONResponse({"instance": name, "slept_ms": delay}, headers={"Cache-Control": catalogue.NO_STORE})

    @app.post("/api/orders")
    async def order(request: Request) -> Response:
        status, document = catalogue.place_order(await request.body())
        if status == 201:
            await asyncio.sleep(catalogue.ORDER_WORK_MS / 1000)
        return JSONResponse({**document, "instance": name}, status_code=status, headers={"Cache-Control": catalogue.NO_STORE})

    return app


class CatalogueServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, args: argparse.Namespace) -> None:
        super().__init__(config)
        self.args = args

    def install_signal_handlers(self) -> None:
        """The companion handles SIGTERM (drain, then `should_exit`); uvicorn's own handler would stop at once."""

    def capture_signals(self):  # type: ignore[no-untyped-def]
        return contextlib.nullcontext()  # uvicorn >= 0.29 installs its handlers here instead: keep the companion's

    async def startup(self, sockets=None) -> None:  # type: ignore[no-untyped-def]
        await super().startup(sockets=sockets)
        await asyncio.to_thread(catalogue.register_when_listening, self.args)


if __name__ == "__main__":
    args = catalogue.parse_args("fastapi")
    app = create_app(args.name)
    server = CatalogueServer(
        uvicorn.Config(app, host=args.host, port=args.port, access_log=args.access_log, lifespan="off", log_level="warning"),
        args,
    )
    companion = catalogue.start_companion(args, stop_server=lambda: setattr(server, "should_exit", True))
    app.add_middleware(FulcrumASGI, companion=companion)
    server.run()
