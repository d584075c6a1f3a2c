"""Server-rendered pages: the public ones (/report, /status, /appeal) and the reviewers' desk (/desk).

``install(app)`` adds them to the API's FastAPI app, with the static files and the security headers.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from stanch.web import desk, public
from stanch.web.security import install_security_headers

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Serve the pages and ``/static`` from ``app``."""
    install_security_headers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(public.router)
    desk.install(app)
