"""Fulcrum's Python companion: health endpoints, SIGTERM draining, a load report header and
self-registration, for WSGI (Flask, Django) and ASGI (FastAPI, Starlette) services. Standard library only."""
from .asgi import FulcrumASGI
from .core import LOAD_HEADER, Companion
from .drain import Drainer, install_signal_handlers
from .registration import Registration
from .wsgi import FulcrumWSGI

__all__ = [
    "LOAD_HEADER",
    "Companion",
    "Drainer",
    "FulcrumASGI",
    "FulcrumWSGI",
    "Registration",
    "install_signal_handlers",
]
