"""One error shape for the whole API: ``{"detail": "<what is wrong and what to do>"}`` with a 4xx status.

FastAPI answers a malformed request body with a list of pydantic error objects; clients (and people
reading logs) are better served by one sentence naming the field and the problem, so those are rewritten
here. The original list stays available under ``errors`` for programs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from stanch.signals.types import MediaError


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the ``{"detail": ...}`` shape."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(MediaError, _media_error)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    detail = "; ".join(describe(e) for e in errors) or "the request is malformed"
    return JSONResponse({"detail": detail, "errors": _jsonable(errors)}, status_code=422)


async def _media_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"the file cannot be hashed: {exc}"}, status_code=422)


def describe(error: dict[str, Any]) -> str:
    """``body.signals.pdq: Value error, a PDQ hash has 64 hex digits; this one has 3``."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "invalid"))
    return f"{where}: {message}" if where else message


def _jsonable(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]
