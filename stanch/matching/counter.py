"""Counting matches in memory, per process, without slowing lookups: the flood guard's input.

A lookup adds to a few dictionaries under one lock (a fraction of a microsecond when nothing matched,
which is nearly every lookup); ``drain`` hands everything counted since the last drain to whoever
flushes it to the database in one transaction (``stanch.desk.flood``), so the database sees one write
per flush interval per process, not one per lookup.

What is counted per entry: ``served`` (each match answered) and ``uploads`` (distinct uploads that
matched it since the last drain: the platform's item id when given, otherwise the upload's own hashes,
so a client retrying the same lookup counts once). Every lookup is counted too, for the share rule.
Matches in allow-list banks are not counted: they never action anything.

When the upload log is on, a lookup that carries the platform's item id and a usable PDQ hash also
leaves ``(pdq, item id, when)`` to be written (``stanch.sweep.retro``); the media never is.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stanch.matching.query import ImageQuery, Query
from stanch.matching.verdict import Verdict

MAX_DISTINCT = 100_000
"""Upload keys remembered per entry between two drains; past it each further match counts as new."""


@dataclass
class Counts:
    """What was counted between two drains."""

    served: dict[int, int] = field(default_factory=dict)
    uploads: dict[int, int] = field(default_factory=dict)
    lookups: int = 0
    logged: list[tuple[bytes, str, datetime]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lookups or self.served or self.logged)


class MatchCounter:
    """Per-process match counts (see the module docstring); thread-safe."""

    def __init__(self, *, log_uploads: bool = False) -> None:
        self.log_uploads = log_uploads
        self._lock = threading.Lock()
        self._counts = Counts()
        self._seen: dict[int, set[str]] = {}
        self._extra: dict[int, int] = {}

    def note(self, queries: Sequence[Query], verdicts: Sequence[Verdict], now: datetime,
             item_ids: Sequence[str | None] | None = None) -> None:
        """Count one batch of lookups and their verdicts (``item_ids``: the platform's, where given)."""
        items = item_ids or [None] * len(queries)
        with self._lock:
            counts = self._counts
            counts.lookups += len(queries)
            for query, verdict, item in zip(queries, verdicts, items, strict=True):
                if verdict.matches:
                    self._matched(query, verdict, item)
                if item and self.log_uploads:
                    pdq = _original_pdq(query)
                    if pdq is not None:
                        counts.logged.append((pdq, item, now))

    def _matched(self, query: Query, verdict: Verdict, item: str | None) -> None:
        key = item or upload_key(query)
        served = self._counts.served
        for match in verdict.matches:
            if match.kind == "allow":
                continue
            served[match.entry] = served.get(match.entry, 0) + 1
            seen = self._seen.setdefault(match.entry, set())
            if len(seen) < MAX_DISTINCT:
                seen.add(key)
            else:
                self._extra[match.entry] = self._extra.get(match.entry, 0) + 1

    def drain(self) -> Counts:
        """Everything counted since the last drain (and start counting afresh)."""
        with self._lock:
            counts, seen, extra = self._counts, self._seen, self._extra
            self._counts, self._seen, self._extra = Counts(), {}, {}
        counts.uploads = {entry: len(seen.get(entry, ())) + extra.get(entry, 0)
                          for entry in {*seen, *extra}}
        return counts

    def put_back(self, counts: Counts) -> None:
        """Return drained counts that could not be written (the database was away): the next drain
        carries them, so a failed flush loses nothing (distinct uploads are then counted as drained)."""
        with self._lock:
            mine = self._counts
            mine.lookups += counts.lookups
            for entry, n in counts.served.items():
                mine.served[entry] = mine.served.get(entry, 0) + n
            for entry, n in counts.uploads.items():
                self._extra[entry] = self._extra.get(entry, 0) + n
            mine.logged[:0] = counts.logged


def upload_key(query: Query) -> str:
    """What tells one upload from another when the platform gave no item id: its digests or hashes."""
    if isinstance(query, ImageQuery):
        return query.sha256 or query.md5 or (query.hashes[0][1] if query.hashes else "")
    return query.sha256 or query.md5 or (query.frames[0].pdq if query.frames else "")


def _original_pdq(query: Query) -> bytes | None:
    if not isinstance(query, ImageQuery):
        return None
    for view, pdq in query.hashes:
        if view == "original":
            return bytes.fromhex(pdq)
    return None
