"""Multi-index hashing: sixteen bucket tables, one per 16-bit chunk of the 256-bit hash.

Why it is exact: split a hash into 16 chunks of 16 bits. If two hashes differ in ``d`` bits, by the
pigeonhole principle some chunk differs in at most ``d // 16`` bits. So probing, in every chunk table,
the query's chunk value and every value within ``d // 16`` bits of it finds every hash within ``d``
(for the PDQ threshold 31: the exact value and its 16 one-bit neighbours, 17 probes a chunk); each
candidate is then checked with a full 256-bit distance, so nothing farther than ``d`` is returned.

Memory: each chunk table is a compressed-sparse-row layout, the row numbers sorted by chunk value
(4 bytes a row) plus 65,537 bucket offsets, so 64 bytes a hash for the 16 tables together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stanch.index.distance import popcount_rows

CHUNKS = 16
CHUNK_VALUES = 1 << 16
MAX_PROBE_RADIUS = 3
"""Beyond 3 bits a chunk (thresholds of 64 and more) probing costs more than scanning every row."""

_ALL_VALUES = np.arange(CHUNK_VALUES, dtype=np.uint16)
_FLIP_MASKS = _ALL_VALUES[np.argsort(np.bitwise_count(_ALL_VALUES), kind="stable")]
"""Every 16-bit mask, fewest bits first: the masks within r bits are a prefix of this array."""
_MASKS_WITHIN = np.cumsum(np.bincount(np.bitwise_count(_ALL_VALUES), minlength=17))
"""_MASKS_WITHIN[r] is how many 16-bit masks have at most r bits set (1, 17, 137, 697, ...)."""
_FLIP_MASKS.flags.writeable = False
_MASKS_WITHIN.flags.writeable = False

CANDIDATE_BLOCK = 1 << 17
"""Candidates verified at once: bounds the temporary memory of a batch (32 bytes each, 4 MB)."""


@dataclass(frozen=True, slots=True)
class Matches:
    """Rows within the threshold of a query: parallel arrays, one element per (query, row) found."""

    query: np.ndarray
    row: np.ndarray
    distance: np.ndarray

    @staticmethod
    def concat(parts: list[Matches]) -> Matches:
        if not parts:
            return Matches(np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0, np.uint16))
        return Matches(
            np.concatenate([p.query for p in parts]),
            np.concatenate([p.row for p in parts]),
            np.concatenate([p.distance for p in parts]),
        )


@dataclass(frozen=True, slots=True)
class MultiIndex:
    """The 16 chunk tables of one immutable set of rows.

    ``rows`` holds, for chunk ``c``, the row numbers sorted by that chunk's value; ``offsets[c, v]`` is
    where the rows with value ``v`` start in ``rows.ravel()`` (so offsets already include ``c * n``).
    """

    offsets: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, words: np.ndarray) -> MultiIndex:
        """Index ``(n, 4)`` uint64 rows; numpy's stable argsort of uint16 keys is a radix sort."""
        n = len(words)
        if n >= 1 << 32:
            raise ValueError("one index segment holds fewer than 2**32 hashes; split the bank")
        keys = words.view(np.uint16)
        rows = np.empty((CHUNKS, n), dtype=np.uint32)
        offsets = np.empty((CHUNKS, CHUNK_VALUES + 1), dtype=np.int64)
        for chunk in range(CHUNKS):
            column = np.ascontiguousarray(keys[:, chunk])
            rows[chunk] = np.argsort(column, kind="stable")
            offsets[chunk, 0] = chunk * n
            np.cumsum(np.bincount(column, minlength=CHUNK_VALUES), out=offsets[chunk, 1:])
            offsets[chunk, 1:] += chunk * n
        return cls(offsets, rows)

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.rows.nbytes)

    def matches(
        self, words: np.ndarray, queries: np.ndarray, threshold: int, scan_above: int
    ) -> tuple[Matches, np.ndarray]:
        """Rows of ``words`` within ``threshold`` of each query row, found through the chunk tables.

        Queries whose probes would gather more than ``scan_above`` candidates (a very crowded bucket,
        or a large threshold) are not handled here: their numbers are returned for a full scan.
        """
        radius = threshold // CHUNKS
        if radius > MAX_PROBE_RADIUS:
            return Matches.concat([]), np.arange(len(queries))
        starts, lengths = self._spans(queries, radius)
        totals = lengths.sum(axis=1)
        crowded = totals > scan_above
        probed = np.flatnonzero(~crowded)
        parts = [
            _verify(words, queries, threshold, block, starts[block], lengths[block], self.rows)
            for block in _blocks(probed, totals[probed])
        ]
        return Matches.concat(parts), np.flatnonzero(crowded)

    def candidate_counts(self, queries: np.ndarray, threshold: int) -> np.ndarray:
        """How many rows the probes of each query gather before the full distance check."""
        if threshold // CHUNKS > MAX_PROBE_RADIUS:
            return np.full(len(queries), len(self.rows[0]))
        return self._spans(queries, threshold // CHUNKS)[1].sum(axis=1)

    def _spans(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Start (in ``rows.ravel()``) and length of every bucket probed, one row of spans per query."""
        masks = _FLIP_MASKS[: _MASKS_WITHIN[radius]]
        keys = queries.view(np.uint16)[:, :, None] ^ masks
        flat = keys + (np.arange(CHUNKS) * (CHUNK_VALUES + 1))[:, None]
        flat = flat.reshape(len(queries), -1)
        offsets = self.offsets.ravel()
        starts = offsets[flat]
        return starts, offsets[flat + 1] - starts


def _blocks(queries: np.ndarray, totals: np.ndarray) -> list[np.ndarray]:
    """Split query numbers into consecutive blocks of about CANDIDATE_BLOCK candidates each."""
    if len(queries) == 0:
        return []
    ends = np.cumsum(totals)
    if ends[-1] <= CANDIDATE_BLOCK:
        return [queries]
    cuts = np.searchsorted(ends, np.arange(CANDIDATE_BLOCK, int(ends[-1]), CANDIDATE_BLOCK), side="right")
    return [block for block in np.split(queries, np.unique(cuts)) if len(block)]


def _verify(
    words: np.ndarray,
    queries: np.ndarray,
    threshold: int,
    block: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    table: np.ndarray,
) -> Matches:
    """Gather the candidates of the spans, keep those whose full distance is within the threshold.

    A close hash is found through several chunks; only the first chunk within the probe radius
    reports it, so each (query, row) comes out once. ``np.take(..., axis=0)`` gathers rows about
    five times faster than ``words[rows]``.
    """
    positions = expand_ranges(starts.ravel(), lengths.ravel())
    rows = table.ravel()[positions]
    owner = np.repeat(block, lengths.sum(axis=1))
    candidates = np.take(words, rows, axis=0)
    candidates ^= np.take(queries, owner, axis=0)
    distance = popcount_rows(candidates)
    keep = np.flatnonzero(distance <= threshold)
    chunk_distances = np.bitwise_count(candidates[keep].view(np.uint16))
    first_close_chunk = np.argmax(chunk_distances <= threshold // CHUNKS, axis=1)
    keep = keep[first_close_chunk == positions[keep] // table.shape[1]]
    return Matches(owner[keep], rows[keep].astype(np.intp), distance[keep])


def scan(words: np.ndarray, queries: np.ndarray, threshold: int, which: np.ndarray | None = None) -> Matches:
    """Brute force: compare the queries numbered ``which`` (default all) with every row."""
    which = np.arange(len(queries)) if which is None else which
    n = len(words)
    if n == 0 or len(which) == 0:
        return Matches.concat([])
    per_block = max(1, CANDIDATE_BLOCK // n)
    parts = []
    for first in range(0, len(which), per_block):
        block = which[first : first + per_block]
        distance = popcount_rows(words[None, :, :] ^ queries[block][:, None, :])
        owner, rows = np.nonzero(distance <= threshold)
        parts.append(Matches(block[owner], rows, distance[owner, rows]))
    return Matches.concat(parts)


def expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without a Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total)
