"""A scan over many rows runs in C: the same matches, in the same order, as numpy's scan."""

from __future__ import annotations

import numpy as np

from stanch.index import multi_index
from stanch.index.distance import hash_words, popcount_rows


def test_the_c_scan_finds_exactly_what_the_numpy_scan_finds(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    words = hash_words(rng.integers(0, 256, (20_000, 32), dtype=np.uint8))
    queries = words[rng.choice(len(words), 20)].copy()
    queries[::2] ^= np.uint64(0xFF)  # some queries 8 bits away from a row, some exact
    found = multi_index.scan(words, queries, 100)
    assert len(found.query) > 20  # the threshold of 100 bits reaches some random rows too
    monkeypatch.setattr(multi_index, "SCAN_ROWS", 1_000)
    blocked = multi_index.scan(words, queries, 100)
    for mine, theirs in zip((blocked.query, blocked.row, blocked.distance),
                            (found.query, found.row, found.distance), strict=True):
        assert np.array_equal(mine, theirs)
    expected = popcount_rows(words[blocked.row] ^ queries[blocked.query])
    assert np.array_equal(expected, blocked.distance) and (blocked.distance <= 100).all()
