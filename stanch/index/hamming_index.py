"""HammingIndex: every banked PDQ hash within a distance of a query, exactly, with live adds and removals.

How it works: a large *base* segment, sorted by entry id and indexed by 16 chunk tables (multi-index
hashing, see multi_index.py), plus a small append-only *delta* segment scanned by brute force, plus a
sorted array of *dead* rows (removed or replaced) filtered out of results. ``add`` appends to the delta
and ``remove`` marks rows dead, so both cost a fraction of a millisecond and are searchable at once;
``compact`` folds the delta and the dead rows into a new base off to the side and swaps it in.

Thread safety: the state searches read is one immutable snapshot, replaced as a whole by writers. So
searches take no lock, never wait, and each sees the index exactly as it was after some complete
sequence of ``add``/``remove`` calls (a replaced entry is never seen with neither or both sets of
hashes). Writers are serialised by a lock; ``compact`` holds it only to take its snapshot and to swap
the new base in, so adds and removals go on, and stay searchable, while it builds.
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
"""Delta plus dead rows from which ``needs_compaction`` is true: 8,192 delta rows scan in ~0.1 ms."""


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes of an index: live hashes, how its rows are split, and the bytes its arrays hold."""

    hashes: int
    base_rows: int
    delta_rows: int
    dead_rows: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What a search reads. Rows are numbered base first, then delta (``len(base) + i``)."""

    base: Segment
    delta: Segment
    dead: np.ndarray

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers (dead or alive) of the entries ``ids`` (sorted unique)."""
        return np.concatenate([self.base.rows_of(ids), self.delta.rows_of(ids) + len(self.base)])

    def is_dead(self, rows: np.ndarray) -> np.ndarray:
        position = np.searchsorted(self.dead, rows)
        return self.dead[np.minimum(position, len(self.dead) - 1)] == rows if len(self.dead) else rows < 0

    def ids_of(self, rows: np.ndarray) -> np.ndarray:
        in_base = rows < len(self.base)
        ids = np.empty(len(rows), np.int64)
        ids[in_base] = self.base.ids[rows[in_base]]
        ids[~in_base] = self.delta.ids[rows[~in_base] - len(self.base)]
        return ids


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
        self._snapshot = _Snapshot(Segment.empty(), self._delta.segment(), np.empty(0, np.int64))

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
        if len(entry_ids) > 1 and not bool(np.all(entry_ids[1:] >= entry_ids[:-1])):
            order = np.argsort(entry_ids, kind="stable")
            entry_ids, words = entry_ids[order], words[order]
        base = Segment.sorted_by_id(entry_ids, words, min_indexed_rows)
        index._snapshot = _Snapshot(base, index._delta.segment(), np.empty(0, np.int64))
        return index

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Set the hashes of every entry in ``ids``: its rows here replace all it had before.

        Searchable as soon as this returns; costs O(rows added + delta), never a rebuild.
        """
        entry_ids, words = _rows(ids, hashes)
        if len(entry_ids) == 0:
            return
        ordinals = _ordinals(entry_ids)
        replaced = np.unique(entry_ids)
        with self._write_lock:
            snapshot = self._snapshot
            dead = np.union1d(snapshot.dead, snapshot.rows_of(replaced))
            self._delta.append(entry_ids, ordinals, words)
            self._note_touched(replaced)
            self._snapshot = _Snapshot(snapshot.base, self._delta.segment(), dead)

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
            self._snapshot = _Snapshot(snapshot.base, snapshot.delta, np.union1d(snapshot.dead, removed))
        return len(np.unique(snapshot.ids_of(removed)))

    def search(self, query: bytes | str | np.ndarray, threshold: int = MATCH_DISTANCE) -> list[Match]:
        """Every entry with a hash within ``threshold`` bits of ``query``, closest first.

        ``query`` is 32 bytes, 64 hex digits, or a ``(32,)`` uint8 array.
        """
        return self._search(query_words(query), _threshold(threshold)).matches()

    def search_many(self, queries: np.ndarray, threshold: int = MATCH_DISTANCE) -> Hits:
        """Every (query row, entry) pair within ``threshold`` bits; ``queries`` is ``(n, 32)`` uint8."""
        return self._search(hash_words(queries), _threshold(threshold))

    @property
    def needs_compaction(self) -> bool:
        """True when the delta and dead rows have grown enough that ``compact`` should run."""
        snapshot = self._snapshot
        return len(snapshot.delta) + len(snapshot.dead) >= self._compact_after

    def compact(self) -> bool:
        """Fold the delta and the dead rows into a new base; False if nothing to do or already running.

        Takes about as long as building the index (about 0.3 s a million hashes). Run it on a thread of
        its own: searches, adds and removals all proceed meanwhile, and their effects are kept.
        While it runs the memory of the base is held twice.
        """
        if not self._compaction_lock.acquire(blocking=False):
            return False
        try:
            with self._write_lock:
                frozen = self._snapshot
                if len(frozen.delta) == 0 and len(frozen.dead) == 0:
                    return False
                self._touched = []
            base = self._merged(frozen)
            with self._write_lock:
                self._install(frozen, base)
            return True
        finally:
            with self._write_lock:
                self._touched = None
            self._compaction_lock.release()

    def stats(self) -> IndexStats:
        snapshot = self._snapshot
        base, delta, dead = snapshot.base, snapshot.delta, snapshot.dead
        rows = len(base) + len(delta)
        nbytes = base.nbytes + self._delta.nbytes + dead.nbytes
        return IndexStats(rows - len(dead), len(base), len(delta), len(dead), nbytes)

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
        for segment, first_row in ((snapshot.base, 0), (snapshot.delta, len(snapshot.base))):
            found = segment.matches(words, threshold)
            alive = ~snapshot.is_dead(found.row + first_row)
            rows = found.row[alive]
            ordinals = segment.ordinals_of(rows)
            parts.append((found.query[alive], segment.ids[rows], found.distance[alive], ordinals))
        query, ids, distance, ordinal = (np.concatenate(column) for column in zip(*parts, strict=True))
        hits = Hits(query, ids, distance.astype(np.int32), ordinal.astype(np.int32))
        return hits.best(np.arange(len(words)))

    def _note_touched(self, ids: np.ndarray) -> None:
        if self._touched is not None:
            self._touched.append(ids)

    def _merged(self, frozen: _Snapshot) -> Segment:
        """The live rows of ``frozen`` as one base segment, sorted by id, with its chunk tables."""
        base, delta = frozen.base, frozen.delta
        base_alive = ~frozen.is_dead(np.arange(len(base)))
        delta_alive = ~frozen.is_dead(np.arange(len(delta)) + len(base))
        ids = np.concatenate([base.ids[base_alive], delta.ids[delta_alive]])
        words = np.concatenate([base.words[base_alive], delta.words[delta_alive]])
        if np.any(delta_alive):
            order = np.argsort(ids, kind="stable")
            ids, words = ids[order], words[order]
        return Segment.sorted_by_id(ids, words, self._min_indexed_rows)

    def _install(self, frozen: _Snapshot, base: Segment) -> None:
        """Swap ``base`` in, keeping every add and removal made since ``frozen`` was taken."""
        current = self._snapshot
        touched = np.unique(np.concatenate([np.empty(0, np.int64), *(self._touched or [])]))
        tail = np.arange(len(frozen.delta), len(current.delta))
        tail = tail[~current.is_dead(tail + len(current.base))]
        delta = current.delta
        self._delta = _Delta(delta.ids[tail], delta.ordinals_of(tail), delta.words[tail])
        self._snapshot = _Snapshot(base, self._delta.segment(), base.rows_of(touched))


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


def _rows(ids: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
