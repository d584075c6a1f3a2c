"""The catalog's rows: what a sweep knows of each item before hashing, and what it stores after.

Rows are looked up and written a window at a time (one ``IN`` query per few hundred keys), in the same
transaction as the sweep's counters and the copies it attaches to cases: after a crash either all of a
window is recorded, or none of it is and the window is done again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.store.sweep_models import CatalogItem
from stanch.sweep.hashing import Outcome

_CHUNK = 500
"""Keys per ``IN (...)`` query (SQLite bounds the number of parameters)."""
MAX_ERROR = 2_000


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class Stored:
    """What the catalog holds of an item: its validators, last sweep, and stored hashes."""

    key: str
    sweep_id: int | None
    size: int | None
    mtime_ns: int | None
    etag: str | None
    last_modified: str | None
    record: dict[str, Any] | None
    matched_seq: int | None

    def known(self) -> dict[str, Any] | None:
        """The validators a task may carry: only for an item whose hashes are stored."""
        if self.record is None:
            return None
        return {"size": self.size, "mtime_ns": self.mtime_ns, "etag": self.etag,
                "last_modified": self.last_modified}


def stored_items(session: Session, keys: Sequence[str]) -> dict[str, Stored]:
    """The catalog rows of ``keys`` that exist."""
    found: dict[str, Stored] = {}
    for start in range(0, len(keys), _CHUNK):
        hashes = [key_hash(k) for k in keys[start : start + _CHUNK]]
        for row in session.scalars(select(CatalogItem).where(CatalogItem.key_hash.in_(hashes))):
            record = json.loads(row.record) if row.record else None
            found[row.key] = Stored(row.key, row.sweep_id, row.size, row.mtime_ns, row.etag,
                                    row.last_modified, record, row.matched_seq)
    return found


def record_outcomes(session: Session, sweep_id: int, outcomes: Sequence[Outcome],
                    matched_seq: dict[str, int | None], now: datetime) -> None:
    """Store a window's outcomes: new hashes, failures (kept with their error, hashes cleared so the
    next run tries again), and for every item the sweep that finished it and its ``matched_seq``."""
    rows = {r.key: r for start in range(0, len(outcomes), _CHUNK) for r in session.scalars(
        select(CatalogItem).where(CatalogItem.key_hash.in_(
            [key_hash(o["key"]) for o in outcomes[start : start + _CHUNK]])))}
    for outcome in outcomes:
        row = rows.get(outcome["key"])
        if row is None:
            row = CatalogItem(key_hash=key_hash(outcome["key"]), key=outcome["key"], failures=0)
            session.add(row)
        row.sweep_id, row.matched_seq = sweep_id, matched_seq.get(outcome["key"])
        if outcome["state"] == "failed":
            row.record = row.md5 = row.sha256 = None
            row.error, row.failed_at = (outcome["error"] or "")[:MAX_ERROR], now
            row.failures = (row.failures or 0) + 1
            continue
        row.error = None
        if outcome["state"] == "hashed":
            record = outcome["record"] or {}
            row.record, row.hashed_at = json.dumps(record), now
            row.md5, row.sha256 = record.get("md5"), record.get("sha256")
            row.size, row.mtime_ns = outcome["size"], outcome["mtime_ns"]
            row.etag, row.last_modified = outcome["etag"], outcome["last_modified"]
    session.flush()
