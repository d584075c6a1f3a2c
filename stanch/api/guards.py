"""Refusals made before any route runs, for every route (API and pages alike).

A NUL character (``%00``) in a request's path or query string would reach a path parameter (a case
number, a bank name) or a query value (a withdrawal's ``reason``) and from there a database query, which
PostgreSQL refuses with an error: a 500. No Stanch address or parameter ever holds one, so the request is
answered 400 before routing. (Bodies are checked by ``stanch.bodies`` and, for anything that reaches the
database, by the store's own guard, ``stanch.store.UnstorableText``.)
"""

from __future__ import annotations

import json
from typing import Any

NUL_IN_ADDRESS = "the address contains a NUL character (%00), which no Stanch address or parameter holds"


class RefuseNulInAddress:
    """ASGI middleware: 400 for a path or query string holding a NUL, raw or percent-encoded."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            body = json.dumps({"detail": NUL_IN_ADDRESS}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _has_nul(scope: dict[str, Any]) -> bool:
    raw = (scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogatepass")).lower()
    query = scope.get("query_string", b"").lower()
    return b"%00" in raw or b"\x00" in raw or b"%00" in query or b"\x00" in query \
        or "\x00" in scope.get("path", "")
