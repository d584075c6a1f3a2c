"""One error shape for the whole API: ``{"detail": "<what is wrong and what to do>"}`` with a 4xx status,
and the one map from the library's refusals to HTTP statuses (``STATUS_OF``).

Handlers let a refusal of the desk or the store propagate (``UnknownRequest``, ``WrongState``, ...) and
the app answers it here, so every endpoint gives the same status for the same refusal. A plain
``ValueError`` is not in the map (it could be a bug, not bad input); the few handlers for which it means
bad input turn it into a 422 with ``unprocessable``.

FastAPI answers a malformed request body with a list of pydantic error objects; clients (and people
reading logs) are better served by one sentence naming the field and the problem, so those are rewritten
here. The original list stays available under ``errors`` for programs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from stanch.desk.appeals import SameReviewer, UnknownAppeal
from stanch.desk.cases import UnknownRequest, WrongState
from stanch.desk.intake import InvalidRequest
from stanch.desk.locate import LocateError
from stanch.desk.safeguards import RateLimited
from stanch.exchange.live.sources import SourceExists, UnknownSource
from stanch.matching.shards import ShardUnavailable
from stanch.signals.types import MediaError
from stanch.store import BankExists, UnknownBank, UnknownEntry, UnstorableText

STATUS_OF: dict[type[Exception], int] = {
    UnknownRequest: 404, UnknownAppeal: 404, UnknownBank: 404, UnknownEntry: 404,
    SameReviewer: 403,
    WrongState: 409, BankExists: 409, SourceExists: 409, UnknownSource: 404,
    InvalidRequest: 422, LocateError: 422, UnstorableText: 422,
    RateLimited: 429,
    ShardUnavailable: 503,
}
"""What each refusal of the library is in HTTP (404 not found, 403 not you, 409 not in this state,
422 bad input, 429 too often, 503 an index shard is not answering: retry). ``InvalidRequest`` also
lists its ``problems``; ``RateLimited`` says
when to retry; ``MediaError`` (a file that cannot be hashed) is 422 with its own wording."""


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the ``{"detail": ...}`` shape."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(MediaError, _media_error)
    for refusal in STATUS_OF:
        app.add_exception_handler(refusal, _refusal)


async def _refusal(request: Request, exc: Exception) -> JSONResponse:
    return refusal_response(exc)


def refusal_response(exc: Exception) -> JSONResponse:
    """The answer to one of the library's refusals, by ``STATUS_OF``."""
    status = next(code for kind, code in STATUS_OF.items() if isinstance(exc, kind))
    if isinstance(exc, InvalidRequest):
        return JSONResponse({"detail": str(exc), "problems": exc.problems}, status_code=status)
    if isinstance(exc, RateLimited):
        return JSONResponse({"detail": str(exc)}, status_code=status,
                            headers={"Retry-After": str(exc.retry_after)})
    return JSONResponse({"detail": str(exc)}, status_code=status)


def unprocessable(error: ValueError, prefix: str = "") -> HTTPException:
    """A 422 for a ``ValueError`` that, where it is raised, means the request's input is bad."""
    return HTTPException(422, f"{prefix}{error}")


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
