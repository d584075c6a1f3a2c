"""Bad input gets a ValueError that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

from stanch.index import HammingIndex


@pytest.mark.parametrize(
    ("ids", "hashes", "message"),
    [
        ([1, 2], np.zeros((3, 32), np.uint8), "2 ids for 3 hashes"),
        ([1], np.zeros((1, 31), np.uint8), r"shape \(n, 32\)"),
        ([1], np.zeros((1, 32), np.int64), "dtype uint8"),
        ([1.5], np.zeros((1, 32), np.uint8), "integers"),
        (np.array([2**63], np.uint64), np.zeros((1, 32), np.uint8), "signed 64-bit"),
    ],
)
def test_malformed_rows_are_refused(ids: object, hashes: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HammingIndex().add(ids, hashes)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        HammingIndex.from_arrays(ids, hashes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "message"),
    [("abc", "64 hex digits"), (b"\x00" * 31, "32 bytes"), ("zz" * 32, "hex digits")],
)
def test_malformed_queries_are_refused(query: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HammingIndex().search(query)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [-1, 257, 3.5, True])
def test_thresholds_outside_0_to_256_bits_are_refused(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        HammingIndex().search_many(np.zeros((1, 32), np.uint8), threshold)  # type: ignore[arg-type]


def test_an_empty_index_and_empty_batches_give_no_hits() -> None:
    index = HammingIndex()
    assert index.search("00" * 32) == [] and len(index) == 0 and 5 not in index
    assert len(index.search_many(np.zeros((0, 32), np.uint8))) == 0
    index.add([], np.zeros((0, 32), np.uint8))
    assert index.remove([]) == 0 and not index.compact()
    assert [m.id for m in index.search(np.zeros(32, np.uint8))] == []
