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

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from stanch.store.sweep_models import CatalogItem
from stanch.sweep.hashing import Outcome

_CHUNK = 500
"""Keys per ``IN (...)`` query (SQLite bounds the number of parameters)."""
MAX_ERROR = 2_000
_TABLE: Table = CatalogItem.__table__  # type: ignore[assignment]
"""Rows are read and written through the table, not ORM objects: a sweep handles them by the window."""
_STORED = (_TABLE.c.key, _TABLE.c.sweep_id, _TABLE.c.size, _TABLE.c.mtime_ns, _TABLE.c.etag,
           _TABLE.c.last_modified, _TABLE.c.record, _TABLE.c.matched_seq)
_NEW_ROW = dict.fromkeys(("record", "hashed_at", "md5", "sha256", "size", "mtime_ns", "etag",
                          "last_modified", "error", "failed_at"))
"""Every column a new row may get, so that a window's inserts share one statement."""


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
        for key, sweep_id, size, mtime_ns, etag, last_modified, record, matched_seq in session.execute(
                select(*_STORED).where(_TABLE.c.key_hash.in_(hashes))):
            found[key] = Stored(key, sweep_id, size, mtime_ns, etag, last_modified,
                                json.loads(record) if record else None, matched_seq)
    return found


def record_outcomes(session: Session, sweep_id: int, outcomes: Sequence[Outcome],
                    matched_seq: dict[str, int | None], now: datetime) -> None:
    """Store a window's outcomes: new hashes, failures (kept with their error, hashes cleared so the
    next run tries again), and for every item the sweep that finished it and its ``matched_seq``.

    Written as a few executemany statements on the table (one insert for the new rows, one update
    by primary key per kind of outcome): the parent process does this for every window while the
    workers hash, so it must stay cheap."""
    hashes = {o["key"]: key_hash(o["key"]) for o in outcomes}
    existing: dict[str, tuple[int, int]] = {}
    keys = list(hashes)
    for start in range(0, len(keys), _CHUNK):
        chunk = [hashes[k] for k in keys[start : start + _CHUNK]]
        rows = session.execute(select(_TABLE.c.key, _TABLE.c.id, _TABLE.c.failures)
                               .where(_TABLE.c.key_hash.in_(chunk)))
        existing.update((key, (row_id, failures)) for key, row_id, failures in rows)
    inserts: list[dict[str, Any]] = []
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        key = outcome["key"]
        row_id, failures = existing.get(key, (None, 0))
        values = _values(outcome, failures, now) | {"sweep_id": sweep_id, "matched_seq": matched_seq.get(key)}
        if row_id is None:
            inserts.append({"failures": 0, **_NEW_ROW, **values, "key_hash": hashes[key], "key": key})
        else:
            updates.setdefault(tuple(values), []).append({"row_id": row_id, **values})
    if inserts:
        session.execute(insert(_TABLE), inserts)
    by_id = update(_TABLE).where(_TABLE.c.id == bindparam("row_id"))
    for group in updates.values():
        session.execute(by_id, group)


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
