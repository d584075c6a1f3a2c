"""Which caller an API key belongs to, checked against the store and remembered briefly.

A key once checked is remembered for ``cache_seconds`` (1 s by default), so that a busy client does not
cost a database round trip per request. After that a valid key is checked again in the background
while its remembered answer goes on being used (for at most ``stale_seconds``): matching never waits
for the database, which matters on SQLite, where checking a key takes the write lock (it records when
the key was last used) and a large import holds that lock for its whole transaction. A revocation
therefore takes effect about a second after it commits, or as soon as such an import ends.

It lives below the HTTP layer because the runtime object (``stanch.runtime.Stanch``) owns one per
process; ``stanch.api.auth`` turns its answers into 401/403.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from stanch.store.db import Database
from stanch.store.keys import verify_key

log = logging.getLogger("stanch.api.auth")


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

    def __init__(self, db: Database, cache_seconds: float = 1.0, stale_seconds: float = 300.0) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self.stale_seconds = stale_seconds
        self._cache: dict[bytes, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()
        self._refreshing: set[bytes] = set()
        self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stanch-keys")

    def remembered(self, presented: str) -> tuple[bool, Caller | None]:
        """``(True, answer)`` when a remembered answer may be used (see the module docstring), else
        ``(False, None)``: the key must then be checked with ``caller`` before answering."""
        digest = _digest(presented)
        cached = self._cache.get(digest)
        if cached is None:
            return False, None
        age = time.monotonic() - cached[0]
        if age < self.cache_seconds:
            return True, cached[1]
        if cached[1] is not None and age < self.stale_seconds:
            self._refresh_soon(presented, digest)
            return True, cached[1]
        return False, None

    def caller(self, presented: str) -> Caller | None:
        """The caller a key belongs to, or None if it is unknown or revoked (asks the database)."""
        now = time.monotonic()
        with self.db.write() as session:  # verify_key notes when the key was last used
            row = verify_key(session, presented)
            caller = None if row is None else Caller(row.id, row.name, row.scope_set)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[_digest(presented)] = (now, caller)
        return caller

    def close(self) -> None:
        """Stop checking keys in the background (at shutdown)."""
        self._refresher.shutdown(wait=False, cancel_futures=True)

    def _refresh_soon(self, presented: str, digest: bytes) -> None:
        with self._lock:
            if digest in self._refreshing:
                return
            self._refreshing.add(digest)
        self._refresher.submit(self._refresh, presented, digest)

    def _refresh(self, presented: str, digest: bytes) -> None:
        try:
            self.caller(presented)
        except Exception:  # the database is busy or down: keep the remembered answer, retry later
            log.warning("checking an API key again failed; its remembered answer stays in use", exc_info=True)
        finally:
            with self._lock:
                self._refreshing.discard(digest)


def _digest(presented: str) -> bytes:
    return hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
