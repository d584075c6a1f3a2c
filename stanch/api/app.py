"""The FastAPI application: ``create_app()`` builds it, ``uvicorn`` serves it (``stanch serve``).

At start-up the app builds the process's runtime object (``stanch.runtime.Stanch``: the database,
migrated if needed, every bank in a ``MatchEngine``, the feed's follower, the desk's ticker and, unless
``STANCH_DISPATCH=0``, the outbox dispatcher) and starts it; at shutdown it stops it. Routes and pages
receive it through the dependency ``stanch.runtime.stanch_of``. Everything is
under ``/v1``; the OpenAPI description is at ``/openapi.json`` and browsable at ``/docs``.

Several server processes (``stanch serve --workers N``) each hold their own engine and converge
through the feed; ``create_app`` with no arguments reads its settings from the environment, which is
how uvicorn's worker processes build theirs.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel

from stanch import __version__
from stanch.api import appeals, banks, exchanges, hma, matching, report, requests
from stanch.api.errors import install_error_handlers
from stanch.api.guards import RefuseNulInAddress
from stanch.matching.sync import POLL_INTERVAL
from stanch.runtime import ApiLimits, Settings, Stanch
from stanch.store import Database
from stanch.web import install as install_pages


def create_app(
    database_url: str | None = None,
    *,
    db: Database | None = None,
    poll_interval: float = POLL_INTERVAL,
    key_cache_seconds: float = 1.0,
    limits: ApiLimits | None = None,
    runtime: Stanch | None = None,
) -> FastAPI:
    """The Stanch API for ``database_url`` (default ``STANCH_DATABASE_URL``), an opened ``db``, or a
    built ``runtime`` (which the app starts and stops)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stanch = runtime or _runtime(database_url, db, Settings.from_environment(
            poll_interval=poll_interval, key_cache_seconds=key_cache_seconds, limits=limits))
        stanch.start()
        settle_memory()
        app.state.stanch = stanch  # read only by stanch.runtime.stanch_of
        try:
            yield
        finally:
            stanch.stop()

    app = FastAPIOffline(  # /docs and /redoc with Swagger UI and ReDoc from the package, not a CDN
        static_url=DOCS_ASSETS,
        title="Stanch",
        version=__version__,
        description="Match uploads against banks of hashes of non-consensual intimate imagery.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RefuseNulInAddress)
    app.include_router(matching.router)
    app.include_router(banks.router)
    app.include_router(requests.router)
    app.include_router(appeals.router)
    app.include_router(report.router)
    app.include_router(exchanges.router)
    hma.install(app)
    install_pages(app)
    describe_models(app, matching.BODY_MODELS + banks.BODY_MODELS + exchanges.BODY_MODELS)
    return app


DOCS_ASSETS = "/docs-assets"
"""Where Swagger UI's and ReDoc's scripts are served from (fastapi-offline bundles them)."""


def _runtime(database_url: str | None, db: Database | None, settings: Settings) -> Stanch:
    """A runtime on the given database (left open at the end) or on the URL's (disposed of)."""
    return Stanch(db, settings) if db is not None else Stanch.open(database_url, settings)


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error: one sentence saying what is wrong and what to do (stanch.api.errors).",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "description": "for programs: the validator's own list"},
        "problems": {"type": "array", "items": {"type": "string"}, "description": "every problem found"},
        "message": {"type": "string", "description": "the same sentence, in HMA's shape (routes under /hma)"},
    },
    "anyOf": [{"required": ["detail"]}, {"required": ["message"]}],
}
"""What FastAPI documents as its validation error is answered in Stanch's one shape instead (the
schema said ``detail`` was a list; a client generated from it would fail on every 422)."""


def describe_models(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    """Add request bodies that handlers read themselves (JSON or a file upload, at the handler's
    choice) to the OpenAPI components, where their ``requestBody`` descriptions refer to them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                described = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(described.pop("$defs", {}))
                components[model.__name__] = described
            components["HTTPValidationError"] = ERROR_SCHEMA
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def settle_memory() -> None:
    """Collect the garbage of start-up, then exempt what survives from future garbage collections.

    Everything loaded by then (modules, the app, the banks' bookkeeping) lives as long as the process;
    left in the collector's generations, it would be traversed by every full collection, which shows
    as latency spikes on lookups.
    """
    gc.collect()
    gc.freeze()
