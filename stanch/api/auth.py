"""API keys on every request: ``Authorization: Bearer <key>``, checked against the store, with scopes.

A missing, unknown or revoked key is 401; a valid key without the scope an endpoint needs is 403
(``admin`` allows everything). A key once checked is remembered for ``cache_seconds`` (1 s by default)
so that a busy client does not cost a database round trip per request; a revocation therefore takes
effect within that time, the same bound as every other bank change.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from stanch.store import Database, verify_key

_BEARER = "bearer "


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's id, name and scopes (never the key itself)."""

    key_id: int
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class KeyChecker:
    """Verifies presented keys against the store, remembering recent answers briefly."""

    def __init__(self, db: Database, cache_seconds: float = 1.0) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()

    def caller(self, presented: str) -> Caller | None:
        """The caller a key belongs to, or None if it is unknown or revoked."""
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        with self.db.write() as session:  # verify_key notes when the key was last used
            row = verify_key(session, presented)
            caller = None if row is None else Caller(row.id, row.name, row.scope_set)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now, caller)
        return caller


def presented_key(request: Request) -> str:
    """The key in the Authorization header; 401 saying how to send one when it is missing."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(_BEARER) or not header[len(_BEARER) :].strip():
        raise HTTPException(
            401,
            "missing API key: send the header 'Authorization: Bearer <key>'"
            " (create a key with: stanch keys create --name NAME --scopes match)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return header[len(_BEARER) :].strip()


def require(scope: str) -> Callable[..., Caller]:
    """A FastAPI dependency that admits only keys with ``scope`` and returns the caller."""

    def dependency(request: Request, key: str = Depends(presented_key)) -> Caller:
        checker: KeyChecker = request.app.state.stanch.keys
        caller = checker.caller(key)
        if caller is None:
            raise HTTPException(
                401, "the API key is not valid (unknown or revoked)", headers={"WWW-Authenticate": "Bearer"}
            )
        if not caller.allows(scope):
            raise HTTPException(
                403, f"this API key lacks the {scope!r} scope (it has: {', '.join(sorted(caller.scopes))})"
            )
        return caller

    return dependency
