"""Multi-index hashing: one bucket table per chunk of the 256-bit hash, chunks as wide as the bank needs.

Why it is exact: split a hash into ``m`` chunks of ``b`` bits (the ``256 - m*b`` bits left over belong
to no chunk). If two hashes differ in ``d`` bits, they differ in at most ``d`` bits over the chunks.
Give chunk ``i`` a probe radius ``r_i`` with ``sum(r_i + 1) = d + 1`` (``probe_radii``: the radii differ
by at most one; a radius of -1 means the chunk is not probed): were every chunk more than its radius
away, the hashes would differ in at least ``d + 1`` bits, so some chunk ``i`` is within ``r_i`` (the
general pigeonhole principle; ``d // m`` for every chunk is the special case, and probes more). So
probing, in every chunk table, the query's chunk value and every value within ``r_i`` bits of it finds
every hash within ``d``; each candidate is then checked with a full 256-bit distance, so nothing
farther is returned. The lookups run in C (``stanch.signals._kernels.multi_index_probe``).

Why the width depends on the bank: a probe costs about the same whatever the width, but a bucket holds
``n / 2**b`` rows, so narrow chunks make every probe gather many candidates at large ``n`` (16 chunks
of 16 bits at 10M hashes: 272 probes, ~41,000 full comparisons a lookup), while wide chunks need more
probes each (11 chunks of 23 bits: 2,794 probes, ~3,300 comparisons). ``chunk_bits_for`` picks, for a
segment's size, the width with the least expected work at PDQ's threshold of 31, within a memory cap
for the bucket offsets.

Memory: each chunk table is a compressed-sparse-row layout, the row numbers sorted by chunk value
(4 bytes a row) plus ``2**b + 1`` bucket offsets (4 bytes each), so ``4 * m`` bytes a hash plus the
offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import combinations
from math import comb

import numpy as np

from stanch.index.distance import popcount_rows
from stanch.signals._kernels import hamming_scan, multi_index_probe

HASH_BITS = 256
MIN_CHUNK_BITS = 16
MAX_CHUNK_BITS = 24
TYPICAL_THRESHOLD = 31
"""The threshold a bank's index is shaped for (PDQ's); any other threshold stays exact, only slower."""
MAX_PROBES = 65_536
"""Beyond this many probes a query (a large threshold) costs more than scanning a large segment."""
OFFSET_BYTES_PER_ROW = 40
"""The bucket offsets of all chunk tables together may take at most this many bytes a row (10M rows:
11 tables of 23 bits, 369 MB, rather than 22 bits' 184 MB for about half the candidates)."""
PROBE_COST = 1.0
CANDIDATE_COST = 1.5
"""Relative costs of one probe (an offset read, a cache miss) and one candidate (a row number read and
the row's 32 bytes, mostly a cache miss, and a popcount)."""

CANDIDATE_BLOCK = 1 << 17
"""Candidates verified at once: bounds the temporary memory of a batch (32 bytes each, 4 MB)."""


def chunk_count(bits: int) -> int:
    return HASH_BITS // bits


@cache
def probe_radii(chunks: int, threshold: int) -> tuple[int, ...]:
    """Each chunk's probe radius: ``threshold + 1`` dealt out as evenly as possible, one less each.

    The first ``(threshold + 1) % chunks`` chunks get one more; below ``chunks - 1`` some chunks get
    -1 (not probed): at threshold 0 only the first chunk is probed, at its own value.
    """
    share, extra = divmod(threshold + 1, chunks)
    return tuple(share + (chunk < extra) - 1 for chunk in range(chunks))


@cache
def probes_per_chunk(bits: int, threshold: int) -> tuple[int, ...]:
    """Buckets each chunk table is probed at: the values within its radius (0: not probed)."""
    return tuple(
        sum(comb(bits, k) for k in range(min(radius, bits) + 1))
        for radius in probe_radii(chunk_count(bits), threshold)
    )


def probes_per_query(bits: int, threshold: int) -> int:
    """Buckets one query probes over all chunk tables: every value within each chunk's radius."""
    return sum(probes_per_chunk(bits, threshold))


def chunk_bits_for(rows: int, threshold: int = TYPICAL_THRESHOLD) -> int:
    """The chunk width with the least expected work per lookup for a segment of ``rows`` hashes."""

    def cost(bits: int) -> float:
        probes = probes_per_query(bits, threshold)
        return probes * PROBE_COST + probes * rows / (1 << bits) * CANDIDATE_COST

    def fits(bits: int) -> bool:
        return bits == MIN_CHUNK_BITS or chunk_count(bits) * (1 << bits) * 4 <= OFFSET_BYTES_PER_ROW * rows

    widths = [b for b in range(MIN_CHUNK_BITS, MAX_CHUNK_BITS + 1) if fits(b)]
    return min(widths, key=lambda b: (cost(b), b))


@cache
def flip_masks(bits: int, radius: int) -> np.ndarray:
    """Every ``bits``-wide mask with at most ``radius`` bits set, fewest first (uint32, read-only)."""
    masks = [0]
    for count in range(1, radius + 1):
        masks.extend(sum(1 << p for p in chosen) for chosen in combinations(range(bits), count))
    out = np.array(masks, dtype=np.uint32)
    out.flags.writeable = False
    return out


def stable_order(keys: np.ndarray, bits: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for keys of up to 32 bits, as two radix passes.

    numpy sorts 16-bit keys stably with a radix sort but wider ones with a merge sort, about five times
    slower at 10M rows; sorting by the low 16 bits and then, stably, by the high bits is the same order.
    """
    low = np.argsort(keys.astype(np.uint16), kind="stable")
    if bits <= 16:
        return low
    high = (keys[low] >> np.uint32(16)).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]


def chunk_values(words: np.ndarray, bits: int) -> np.ndarray:
    """``(n, 4)`` uint64 hashes as ``(n, m)`` uint32 chunk values (chunk ``c`` is bits ``c*b..c*b+b-1``
    of the four words read as one little-endian 256-bit number)."""
    if bits == 16:
        return words.view(np.uint16).astype(np.uint32)
    m = chunk_count(bits)
    mask = np.uint64((1 << bits) - 1)
    out = np.empty((len(words), m), dtype=np.uint32)
    for chunk in range(m):
        word, shift = divmod(chunk * bits, 64)
        value = words[:, word] >> np.uint64(shift)
        if shift + bits > 64:
            value |= words[:, word + 1] << np.uint64(64 - shift)
        out[:, chunk] = value & mask
    return out


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
    """The chunk tables of one immutable set of rows.

    ``rows[c]`` holds the row numbers sorted by chunk ``c``'s value; ``offsets[c, v]`` is where the rows
    with value ``v`` start in ``rows[c]``. ``bits`` is the chunk width (``rows`` has ``256 // bits``
    chunks).
    """

    offsets: np.ndarray
    rows: np.ndarray
    bits: int

    @classmethod
    def build(cls, words: np.ndarray, bits: int | None = None) -> MultiIndex:
        """Index ``(n, 4)`` uint64 rows, with chunks of ``bits`` (default: the best for ``n``)."""
        n = len(words)
        if n >= 1 << 32:
            raise ValueError("one index segment holds fewer than 2**32 hashes; split the bank")
        bits = chunk_bits_for(n) if bits is None else bits
        if not MIN_CHUNK_BITS <= bits <= MAX_CHUNK_BITS:
            raise ValueError(f"chunk width must be {MIN_CHUNK_BITS} to {MAX_CHUNK_BITS} bits, not {bits}")
        values = 1 << bits
        chunks = chunk_count(bits)
        keys = chunk_values(words, bits)
        rows = np.empty((chunks, n), dtype=np.uint32)
        offsets = np.empty((chunks, values + 1), dtype=np.uint32)
        for chunk in range(chunks):
            column = np.ascontiguousarray(keys[:, chunk])
            rows[chunk] = stable_order(column, bits)
            offsets[chunk, 0] = 0
            np.cumsum(np.bincount(column, minlength=values), out=offsets[chunk, 1:])
        return cls(offsets, rows, bits)

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.rows.nbytes)

    def matches(
        self, words: np.ndarray, queries: np.ndarray, threshold: int, scan_above: int
    ) -> tuple[Matches, np.ndarray]:
        """Rows of ``words`` within ``threshold`` of each query row, found through the chunk tables.

        Queries whose probes would gather more than ``scan_above`` candidates (a very crowded bucket,
        or a large threshold) are not handled here: their numbers are returned for a full scan.
        A close hash is found through several chunks; only the first chunk within its probe radius
        reports it, so each (query, row) comes out once.
        """
        if probes_per_query(self.bits, threshold) > MAX_PROBES:
            return Matches.concat([]), np.arange(len(queries))
        triples, totals = self._probe(words, queries, threshold, scan_above)
        found = Matches(triples[:, 0].astype(np.intp), triples[:, 1].astype(np.intp),
                        triples[:, 2].astype(np.uint16))  # fmt: skip
        return found, np.flatnonzero(totals > scan_above)

    def candidate_counts(self, words: np.ndarray, queries: np.ndarray, threshold: int) -> np.ndarray:
        """How many rows of ``words`` the probes of each query gather before the full distance check."""
        if probes_per_query(self.bits, threshold) > MAX_PROBES:
            return np.full(len(queries), self.rows.shape[1])
        return self._probe(words, queries, threshold, -1)[1]

    def _probe(
        self, words: np.ndarray, queries: np.ndarray, threshold: int, scan_above: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The C kernel's (query, row, distance) triples and per-query candidate counts."""
        counts = np.array(probes_per_chunk(self.bits, threshold), np.int64)
        masks = flip_masks(self.bits, max(probe_radii(chunk_count(self.bits), threshold)))
        triples, totals = multi_index_probe(
            np.ascontiguousarray(words), self.offsets, self.rows, masks, counts, self.bits,
            np.ascontiguousarray(queries), threshold, scan_above,
        )  # fmt: skip
        return np.frombuffer(triples, np.int64).reshape(-1, 3), np.frombuffer(totals, np.int64)


def scan(words: np.ndarray, queries: np.ndarray, threshold: int, which: np.ndarray | None = None) -> Matches:
    """Brute force: compare the queries numbered ``which`` (default all) with every row."""
    which = np.arange(len(queries)) if which is None else which
    n = len(words)
    if n == 0 or len(which) == 0:
        return Matches.concat([])
    if n > SCAN_ROWS:
        return _scan_in_c(words, queries, threshold, which)
    per_block = max(1, CANDIDATE_BLOCK // n)
    parts = []
    for first in range(0, len(which), per_block):
        block = which[first : first + per_block]
        distance = popcount_rows(words[None, :, :] ^ queries[block][:, None, :])
        owner, rows = np.nonzero(distance <= threshold)
        parts.append(Matches(block[owner], rows, distance[owner, rows]))
    return Matches.concat(parts)


SCAN_ROWS = 65_536
"""Above this many rows a scan runs in C (``stanch.signals._kernels.hamming_scan``): it reads each
row from memory once and compares it with every query, however many queries there are (10 million
rows and 33 query hashes: the upload log of retroactive matching, ``benchmarks/retro_match.py``).
Below it numpy's temporaries are small anyway."""


def _scan_in_c(words: np.ndarray, queries: np.ndarray, threshold: int, which: np.ndarray) -> Matches:
    """``scan`` over many rows, in C: the same matches in the same order (by query, then row)."""
    chosen = np.ascontiguousarray(queries[which])
    found = np.frombuffer(hamming_scan(np.ascontiguousarray(words), chosen, threshold), np.int64)
    triples = found.reshape(-1, 3)
    return Matches(which[triples[:, 0]].astype(np.intp), triples[:, 1].astype(np.intp),
                   triples[:, 2].astype(np.uint16))


def expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without a Python loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total)
