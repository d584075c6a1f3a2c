"""API keys on every request: ``Authorization: Bearer <key>``, checked against the store, with scopes.

A missing, unknown or revoked key is 401; a valid key without the scope an endpoint needs is 403
(``admin`` allows everything).

Keys are checked by the runtime's ``KeyChecker`` (``stanch.store.key_checker``), which remembers an
answer for about a second, so a revocation takes effect about a second after it commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stanch.runtime import Stanch, stanch_of
from stanch.store.key_checker import Caller, KeyChecker

__all__ = ["Caller", "KeyChecker", "require"]
_bearer = HTTPBearer(auto_error=False, description="an API key: Authorization: Bearer stanch_...")


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A FastAPI dependency that admits only keys with ``scope`` and returns the caller."""

    async def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
        runtime: Stanch = Depends(stanch_of),
    ) -> Caller:
        if credentials is None or not credentials.credentials.strip():
            raise HTTPException(
                401,
                "missing API key: send the header 'Authorization: Bearer <key>'"
                " (create a key with: stanch keys create --name NAME --scopes match)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = credentials.credentials.strip()
        checker = runtime.keys
        known, caller = checker.remembered(key)
        if not known:
            caller = await run_in_threadpool(checker.caller, key)
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
