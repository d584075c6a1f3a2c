"""An immutable block of indexed rows: entry ids, their hashes, and (when large) the chunk tables.

Rows never change once a segment is published, which is what lets searches run without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stanch.index.distance import WORDS
from stanch.index.multi_index import Matches, MultiIndex, expand_ranges, scan

SCAN_FRACTION = 8
"""A query whose probes gather more than 1/8 of the rows is answered by a full scan instead."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Rows ``0..n-1``: ``ids`` (int64), ``words`` (``(n, 4)`` uint64 hashes), optional chunk tables.

    ``ordinals`` (int32) gives each row's position among its entry's hashes. When it is None the rows
    are sorted by id with each entry's hashes in order, so the ordinal is the distance to the entry's
    first row and costs no memory.
    """

    ids: np.ndarray
    words: np.ndarray
    ordinals: np.ndarray | None
    table: MultiIndex | None

    @classmethod
    def empty(cls) -> Segment:
        return cls(np.empty(0, np.int64), np.empty((0, WORDS), np.uint64), None, None)

    @classmethod
    def sorted_by_id(cls, ids: np.ndarray, words: np.ndarray, min_indexed_rows: int) -> Segment:
        """A segment of rows already sorted by id; chunk tables are built if it has enough rows."""
        table = MultiIndex.build(words) if len(ids) >= max(1, min_indexed_rows) else None
        return cls(ids, words, None, table)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        extra = 0 if self.ordinals is None else self.ordinals.nbytes
        table = 0 if self.table is None else self.table.nbytes
        return int(self.ids.nbytes + self.words.nbytes + extra + table)

    def matches(self, queries: np.ndarray, threshold: int) -> Matches:
        """Every row within ``threshold`` bits of each query (``(q, 4)`` uint64), exactly."""
        if self.table is None:
            return scan(self.words, queries, threshold)
        found, crowded = self.table.matches(
            self.words, queries, threshold, scan_above=len(self) // SCAN_FRACTION
        )
        if len(crowded) == 0:
            return found
        return Matches.concat([found, scan(self.words, queries, threshold, crowded)])

    def candidate_counts(self, queries: np.ndarray, threshold: int) -> np.ndarray:
        """Rows each query compares in full: its probes' buckets, or every row when scanned."""
        every_row = np.full(len(queries), len(self))
        if self.table is None:
            return every_row
        counts = self.table.candidate_counts(self.words, queries, threshold)
        return np.where(counts > len(self) // SCAN_FRACTION, every_row, counts)

    def ordinals_of(self, rows: np.ndarray) -> np.ndarray:
        if self.ordinals is not None:
            return self.ordinals[rows]
        ordinals = np.zeros(len(rows), np.int32)
        ids = self.ids[rows]
        later = (rows > 0) & (self.ids[np.maximum(rows - 1, 0)] == ids)  # not its entry's first hash
        ordinals[later] = rows[later] - np.searchsorted(self.ids, ids[later], side="left")
        return ordinals

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers holding any of ``ids`` (sorted unique int64), dead or alive."""
        if self.ordinals is not None:
            return np.flatnonzero(np.isin(self.ids, ids))
        low = np.searchsorted(self.ids, ids, side="left")
        high = np.searchsorted(self.ids, ids, side="right")
        return expand_ranges(low, high - low)
