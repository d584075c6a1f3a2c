"""HammingIndex: every banked PDQ hash within a distance of a query, exactly, with live adds and removals.

How it works: a large *base* segment, sorted by entry id and indexed by chunk tables (multi-index
hashing, see multi_index.py); a *recent* segment, indexed the same way, holding what was added since
the base was built; a small append-only *delta* scanned by brute force; and a sorted array of *dead*
rows (removed or replaced) filtered out of results. ``add`` appends to the delta and ``remove`` marks
rows dead, so both cost a fraction of a millisecond and are searchable at once. ``compact`` folds the
delta into a new recent segment (cost proportional to the recent rows, not the bank), and rebuilds the
base only when the recent or dead rows reach 1/8 of it.

Thread safety: the state searches read is one immutable snapshot, replaced as a whole by writers. So
searches take no lock, never wait, and each sees the index exactly as it was after some complete
sequence of ``add``/``remove`` calls (a replaced entry is never seen with neither or both sets of
hashes). Writers are serialised by a lock; ``compact`` holds it only to take its snapshot and to swap
its result in, so adds and removals go on, and stay searchable, while it builds.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from stanch.index.distance import WORDS, hash_words, query_words
from stanch.index.hits import Hits, Match
from stanch.index.segment import Segment
from stanch.signals.pdq import MATCH_DISTANCE, PDQ_BITS

MIN_INDEXED_ROWS = 16_384
"""Below this many rows the base is scanned by brute force: as fast, without 8 MB of bucket offsets."""
COMPACT_AFTER = 8_192
"""Delta rows from which ``needs_compaction`` is true: 8,192 rows scan in about 0.1 ms."""
REBUILD_FRACTION = 8
"""The base is rebuilt when the recent and delta rows, or the dead rows, reach 1/8 of it."""


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes of an index: live hashes, how its rows are split, and the bytes its arrays hold."""

    hashes: int
    base_rows: int
    recent_rows: int
    delta_rows: int
    dead_rows: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What a search reads. Rows are numbered across the segments: base, then recent, then delta."""

    base: Segment
    recent: Segment
    delta: Segment
    dead: np.ndarray

    def segments(self) -> tuple[tuple[Segment, int], ...]:
        """Each segment with the number of its first row."""
        recent_start = len(self.base)
        delta_start = recent_start + len(self.recent)
        return ((self.base, 0), (self.recent, recent_start), (self.delta, delta_start))

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers (dead or alive) of the entries ``ids`` (sorted unique)."""
        return np.concatenate([segment.rows_of(ids) + first for segment, first in self.segments()])

    def is_dead(self, rows: np.ndarray) -> np.ndarray:
        if len(self.dead) == 0:
            return np.zeros(len(rows), dtype=bool)
        position = np.minimum(np.searchsorted(self.dead, rows), len(self.dead) - 1)
        return self.dead[position] == rows

    def ids_of(self, rows: np.ndarray) -> np.ndarray:
        ids = np.empty(len(rows), np.int64)
        for segment, first in self.segments():
            inside = (rows >= first) & (rows < first + len(segment))
            ids[inside] = segment.ids[rows[inside] - first]
        return ids

    def live_rows(self, segment: Segment, first: int) -> np.ndarray:
        rows = np.arange(len(segment))
        return rows[~self.is_dead(rows + first)]


class _Delta:
    """Append-only rows owned by the writer; snapshots see only the prefix written before them.

    Appending writes past every published prefix, or into fresh arrays when full, so a published
    prefix never changes under a search.
    """

    def __init__(self, ids: np.ndarray, ordinals: np.ndarray, words: np.ndarray) -> None:
        capacity = max(1024, 2 * len(ids))
        self._ids = np.empty(capacity, np.int64)
        self._ordinals = np.empty(capacity, np.int32)
        self._words = np.empty((capacity, WORDS), np.uint64)
        self._length = 0
        self.append(ids, ordinals, words)

    @classmethod
    def empty(cls) -> _Delta:
        return cls(np.empty(0, np.int64), np.empty(0, np.int32), np.empty((0, WORDS), np.uint64))

    @property
    def nbytes(self) -> int:
        return int(self._ids.nbytes + self._ordinals.nbytes + self._words.nbytes)

    def append(self, ids: np.ndarray, ordinals: np.ndarray, words: np.ndarray) -> None:
        end = self._length + len(ids)
        if end > len(self._ids):
            capacity = max(2 * len(self._ids), end)
            self._ids = _grown(self._ids, self._length, capacity)
            self._ordinals = _grown(self._ordinals, self._length, capacity)
            self._words = _grown(self._words, self._length, capacity)
        self._ids[self._length : end] = ids
        self._ordinals[self._length : end] = ordinals
        self._words[self._length : end] = words
        self._length = end

    def segment(self) -> Segment:
        end = self._length
        return Segment(self._ids[:end], self._words[:end], self._ordinals[:end], None)


class HammingIndex:
    """Exact Hamming search over 256-bit PDQ hashes of entries identified by int64 ids.

    An entry may have several hashes (its dihedral variants, a video's frames): give the same id on
    several rows. Results name the entry, its smallest distance, and the ordinal of the hash that gave
    it. ``add`` with an id already present replaces all of that entry's hashes.

    Safe to share between threads (see the module's docstring). The owner calls ``compact`` when
    ``needs_compaction`` is true, on a thread of its own. ``min_indexed_rows``: a bank with fewer
    hashes is scanned instead of indexed; ``compact_after``: the delta size that asks for compaction.
    """

    def __init__(
        self, *, min_indexed_rows: int = MIN_INDEXED_ROWS, compact_after: int = COMPACT_AFTER
    ) -> None:
        self._min_indexed_rows = min_indexed_rows
        self._compact_after = compact_after
        self._write_lock = threading.Lock()
        self._compaction_lock = threading.Lock()
        self._touched: list[np.ndarray] | None = None
        self._delta = _Delta.empty()
        self._snapshot = self._with_base(Segment.empty())

    @classmethod
    def from_arrays(
        cls,
        ids: np.ndarray,
        hashes: np.ndarray,
        *,
        min_indexed_rows: int = MIN_INDEXED_ROWS,
        compact_after: int = COMPACT_AFTER,
    ) -> HammingIndex:
        """Bulk load: row ``i`` is a hash (``(n, 32)`` uint8, packed bits) of entry ``ids[i]``.

        Rows of one id are that entry's hashes, ordinals 0, 1, ... in the order given. When ``ids``
        is already sorted (``ORDER BY id``) and ``hashes`` C-contiguous, the index keeps the arrays
        without copying them: do not modify them afterwards.
        """
        index = cls(min_indexed_rows=min_indexed_rows, compact_after=compact_after)
        entry_ids, words = _rows(ids, hashes)
        index._snapshot = index._with_base(_sorted_segment(entry_ids, words, min_indexed_rows))
        return index

    @classmethod
    def from_segment(
        cls, base: Segment, *, min_indexed_rows: int = MIN_INDEXED_ROWS, compact_after: int = COMPACT_AFTER
    ) -> HammingIndex:
        """An index whose base is ``base`` exactly as given: its arrays may be read-only (mapped from an
        index snapshot file and shared with other processes). Adds and removals go on top of it, and
        compaction writes new arrays, never into these."""
        index = cls(min_indexed_rows=min_indexed_rows, compact_after=compact_after)
        index._snapshot = index._with_base(base)
        return index

    @property
    def base(self) -> Segment:
        """The base segment (right after a bulk load: every row), for writing a snapshot of it."""
        return self._snapshot.base

    def add(self, ids: np.ndarray | list[int], hashes: np.ndarray) -> None:
        """Set the hashes of every entry in ``ids``: its rows here replace all it had before.

        Searchable as soon as this returns; costs O(rows added + dead rows), never a rebuild.
        """
        entry_ids, words = _rows(ids, hashes)
        if len(entry_ids) == 0:
            return
        ordinals = _ordinals(entry_ids)
        replaced = np.unique(entry_ids)
        with self._write_lock:
            snapshot = self._snapshot
            dead = _union(snapshot.dead, snapshot.rows_of(replaced))
            self._delta.append(entry_ids, ordinals, words)
            self._note_touched(replaced)
            self._snapshot = _Snapshot(snapshot.base, snapshot.recent, self._delta.segment(), dead)

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Remove the entries ``ids`` (unknown ids are ignored); returns how many were present."""
        wanted = np.unique(_entry_ids(ids))
        with self._write_lock:
            snapshot = self._snapshot
            rows = snapshot.rows_of(wanted)
            removed = rows[~snapshot.is_dead(rows)]
            if len(removed) == 0:
                return 0
            self._note_touched(wanted)
            dead = _union(snapshot.dead, removed)
            self._snapshot = _Snapshot(snapshot.base, snapshot.recent, snapshot.delta, dead)
        return len(np.unique(snapshot.ids_of(removed)))

    def search(self, query: bytes | str | np.ndarray, threshold: int = MATCH_DISTANCE) -> list[Match]:
        """Every entry with a hash within ``threshold`` bits of ``query``, closest first.

        ``query`` is 32 bytes, 64 hex digits, or a ``(32,)`` uint8 array.
        """
        return self._search(query_words(query), _threshold(threshold)).matches()

    def search_many(self, queries: np.ndarray, threshold: int = MATCH_DISTANCE) -> Hits:
        """Every (query row, entry) pair within ``threshold`` bits; ``queries`` is ``(n, 32)`` uint8."""
        return self._search(hash_words(queries), _threshold(threshold))

    def candidate_counts(self, queries: np.ndarray, threshold: int = MATCH_DISTANCE) -> np.ndarray:
        """How many hashes each query compares in full (diagnostics: how crowded the buckets are).

        A query in a crowded region (thousands of variants of one viral picture) gathers more.
        """
        words, snapshot, threshold = hash_words(queries), self._snapshot, _threshold(threshold)
        counts = [segment.candidate_counts(words, threshold) for segment, _ in snapshot.segments()]
        return np.sum(counts, axis=0)

    @property
    def needs_compaction(self) -> bool:
        """True when the delta (or the dead rows) have grown enough that ``compact`` should run."""
        snapshot = self._snapshot
        dead_limit = max(self._compact_after, len(snapshot.base) // REBUILD_FRACTION)
        return len(snapshot.delta) >= self._compact_after or len(snapshot.dead) >= dead_limit

    def compact(self, *, full: bool = False) -> bool:
        """Fold the delta into the indexed segments; False if there was nothing to do or one is running.

        Usually the delta and the *recent* segment are merged into a new recent segment, at a cost
        proportional to their size. When they (or the dead rows) reach 1/8 of the base, or with
        ``full=True``, everything is merged into a new base: about as long as a bulk load (about
        0.5 s a million hashes), holding the base's memory twice meanwhile. Run it on a thread of its
        own: searches, adds and removals all proceed while it builds, and their effects are kept.
        """
        if not self._compaction_lock.acquire(blocking=False):
            return False
        try:
            with self._write_lock:
                frozen = self._snapshot
                full = full or self._rebuild_due(frozen)
                if len(frozen.delta) == 0 and not (full and (len(frozen.recent) or len(frozen.dead))):
                    return False
                self._touched = []
            merged = self._merged(frozen, full)
            with self._write_lock:
                self._install(frozen, merged, full)
            return True
        finally:
            with self._write_lock:
                self._touched = None
            self._compaction_lock.release()

    def stats(self) -> IndexStats:
        snapshot = self._snapshot
        rows = sum(len(segment) for segment, _ in snapshot.segments())
        nbytes = snapshot.base.nbytes + snapshot.recent.nbytes + self._delta.nbytes + snapshot.dead.nbytes
        return IndexStats(
            hashes=rows - len(snapshot.dead),
            base_rows=len(snapshot.base),
            recent_rows=len(snapshot.recent),
            delta_rows=len(snapshot.delta),
            dead_rows=len(snapshot.dead),
            nbytes=nbytes,
        )

    def __len__(self) -> int:
        """Number of live hashes."""
        return self.stats().hashes

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, int | np.integer):
            return False
        snapshot = self._snapshot
        rows = snapshot.rows_of(np.array([entry_id], np.int64))
        return bool(np.any(~snapshot.is_dead(rows)))

    def _search(self, words: np.ndarray, threshold: int) -> Hits:
        snapshot = self._snapshot
        parts = []
        for segment, first in snapshot.segments():
            if len(segment) == 0:
                continue
            found = segment.matches(words, threshold)
            alive = ~snapshot.is_dead(found.row + first)
            rows = found.row[alive]
            ordinals = segment.ordinals_of(rows)
            parts.append((found.query[alive], segment.ids[rows], found.distance[alive], ordinals))
        if not parts:
            return Hits(*(np.empty(0, dtype) for dtype in (np.intp, np.int64, np.int32, np.int32)))
        query, ids, distance, ordinal = (np.concatenate(column) for column in zip(*parts, strict=True))
        hits = Hits(query, ids, distance.astype(np.int32), ordinal.astype(np.int32))
        return hits.best(np.arange(len(words)))

    def _with_base(self, base: Segment) -> _Snapshot:
        return _Snapshot(base, Segment.empty(), self._delta.segment(), np.empty(0, np.int64))

    def _note_touched(self, ids: np.ndarray) -> None:
        if self._touched is not None:
            self._touched.append(ids)

    def _rebuild_due(self, snapshot: _Snapshot) -> bool:
        """A new base is due when the rest has grown to 1/8 of it (or it is too small for tables)."""
        limit = len(snapshot.base) // REBUILD_FRACTION
        small = len(snapshot.base) < self._min_indexed_rows
        return small or len(snapshot.recent) + len(snapshot.delta) >= limit or len(snapshot.dead) >= limit

    def _merged(self, frozen: _Snapshot, full: bool) -> Segment:
        """The live rows of the delta and recent segments (and the base if ``full``) as one segment."""
        merging = frozen.segments() if full else frozen.segments()[1:]
        live = [(segment, frozen.live_rows(segment, first)) for segment, first in merging]
        ids = np.concatenate([segment.ids[rows] for segment, rows in live])
        words = np.concatenate([segment.words[rows] for segment, rows in live])
        return _sorted_segment(ids, words, self._min_indexed_rows if full else 1)

    def _install(self, frozen: _Snapshot, merged: Segment, full: bool) -> None:
        """Swap ``merged`` in, keeping every add and removal made since ``frozen`` was taken."""
        current = self._snapshot
        touched = np.unique(np.concatenate([np.empty(0, np.int64), *(self._touched or [])]))
        delta, delta_first = current.segments()[2]
        tail = np.arange(len(frozen.delta), len(delta))
        tail = tail[~current.is_dead(tail + delta_first)]
        self._delta = _Delta(delta.ids[tail], delta.ordinals_of(tail), delta.words[tail])
        if full:
            dead = merged.rows_of(touched)
            self._snapshot = _Snapshot(merged, Segment.empty(), self._delta.segment(), dead)
        else:
            base_dead = current.dead[current.dead < len(current.base)]
            dead = np.concatenate([base_dead, merged.rows_of(touched) + len(current.base)])
            self._snapshot = _Snapshot(current.base, merged, self._delta.segment(), dead)


def index_segment(ids: np.ndarray, hashes: np.ndarray, min_indexed_rows: int = MIN_INDEXED_ROWS) -> Segment:
    """The base segment ``HammingIndex.from_arrays(ids, hashes)`` would hold, on its own."""
    return _sorted_segment(*_rows(ids, hashes), min_indexed_rows)


def _sorted_segment(ids: np.ndarray, words: np.ndarray, min_indexed_rows: int) -> Segment:
    """A segment of these rows sorted by id, keeping each entry's rows in their order."""
    if len(ids) > 1 and not bool(np.all(ids[1:] >= ids[:-1])):
        order = np.argsort(ids, kind="stable")
        ids, words = ids[order], words[order]
    return Segment.sorted_by_id(ids, words, min_indexed_rows)


def _union(dead: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The sorted dead rows with ``rows`` added: one copy of ``dead``, no sort of it."""
    rows = np.unique(rows)
    if len(dead):
        position = np.minimum(np.searchsorted(dead, rows), len(dead) - 1)
        rows = rows[dead[position] != rows]
    return np.insert(dead, np.searchsorted(dead, rows), rows)


def _grown(array: np.ndarray, length: int, capacity: int) -> np.ndarray:
    grown = np.empty((capacity, *array.shape[1:]), array.dtype)
    grown[:length] = array[:length]
    return grown


def _entry_ids(ids: np.ndarray | list[int]) -> np.ndarray:
    values = np.asarray(ids)
    if values.size == 0:
        return np.empty(0, np.int64)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise ValueError(f"ids must be a 1-D array of integers, got {values.dtype} {values.shape}")
    if values.dtype.kind == "u" and values.max() > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in a signed 64-bit integer (database ids)")
    return values.astype(np.int64, copy=False)


def _rows(ids: np.ndarray | list[int], hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    entry_ids, words = _entry_ids(ids), hash_words(hashes)
    if len(entry_ids) != len(words):
        raise ValueError(f"got {len(entry_ids)} ids for {len(words)} hashes: give one id per hash row")
    return entry_ids, words


def _ordinals(ids: np.ndarray) -> np.ndarray:
    """Each row's position among the rows of the same id, in the order given."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.ones(len(ids), dtype=bool)
    starts[1:] = sorted_ids[1:] != sorted_ids[:-1]
    positions = np.arange(len(ids))
    ordinals = np.empty(len(ids), np.int32)
    ordinals[order] = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    return ordinals


def _threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError(f"the threshold is a whole number of bits, got {threshold!r}")
    if not 0 <= threshold <= PDQ_BITS:
        raise ValueError(f"the threshold must be between 0 and {PDQ_BITS} bits, got {threshold}")
    return int(threshold)
