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

from sqlalchemy import insert, select, update
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
    next run tries again), and for every item the sweep that finished it and its ``matched_seq``.

    Written as two bulk statements (insert the new rows, update the others by primary key): the
    parent process does this for every window while the workers hash, so it must stay cheap."""
    existing: dict[str, tuple[int, int]] = {}
    for start in range(0, len(outcomes), _CHUNK):
        hashes = [key_hash(o["key"]) for o in outcomes[start : start + _CHUNK]]
        rows = session.execute(select(CatalogItem.key, CatalogItem.id, CatalogItem.failures)
                               .where(CatalogItem.key_hash.in_(hashes)))
        existing.update((key, (row_id, failures)) for key, row_id, failures in rows)
    inserts, updates = [], []
    for outcome in outcomes:
        key = outcome["key"]
        row_id, failures = existing.get(key, (None, 0))
        values = _values(outcome, failures, now) | {"sweep_id": sweep_id, "matched_seq": matched_seq.get(key)}
        if row_id is None:
            inserts.append({"key_hash": key_hash(key), "key": key, "failures": 0, **values})
        else:
            updates.append({"id": row_id, **values})
    if inserts:
        session.execute(insert(CatalogItem), inserts)
    if updates:
        session.execute(update(CatalogItem), updates)


def _values(outcome: Outcome, failures: int, now: datetime) -> dict[str, Any]:
    if outcome["state"] == "failed":
        return {"record": None, "md5": None, "sha256": None, "error": (outcome["error"] or "")[:MAX_ERROR],
                "failed_at": now, "failures": failures + 1}
    if outcome["state"] == "unchanged":
        return {"error": None}
    record = outcome["record"] or {}
    return {"record": json.dumps(record), "hashed_at": now, "md5": record.get("md5"),
            "sha256": record.get("sha256"), "size": outcome["size"], "mtime_ns": outcome["mtime_ns"],
            "etag": outcome["etag"], "last_modified": outcome["last_modified"], "error": None}
