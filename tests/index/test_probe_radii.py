"""Per-chunk probe radii (the general pigeonhole principle) and the C probe kernel, against brute force.

The hardest hashes for the chunk tables are those at exactly the threshold whose flips put every chunk
but one just outside its radius: only the probes of that one chunk, at exactly its radius, find them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from index_reference import expected, flip_bits, random_hashes

from stanch.index import HammingIndex
from stanch.index.distance import hash_words
from stanch.index.multi_index import MultiIndex, chunk_count, chunk_values, probe_radii, scan

BANK_ROWS = 2000


@pytest.mark.parametrize("chunks", [10, 11, 12, 16])
def test_radii_deal_out_threshold_plus_one_evenly(chunks: int) -> None:
    for threshold in range(257):
        radii = probe_radii(chunks, threshold)
        assert len(radii) == chunks
        assert sum(r + 1 for r in radii) == threshold + 1  # so some chunk is within its radius
        assert max(radii) - min(radii) <= 1 and min(radii) >= -1


def test_low_thresholds_probe_fewer_chunks() -> None:
    assert probe_radii(11, 0) == (0,) + (-1,) * 10  # one chunk, its own value only
    assert probe_radii(11, 31) == (2,) * 10 + (1,)  # 10 x 2 + 1 + 11 = 32


def little_endian_position(bit: int) -> int:
    """Bit ``bit`` of the 256-bit little-endian number as a position in ``np.unpackbits`` order."""
    return 8 * (bit // 8) + 7 - bit % 8


def adversarial(row: np.ndarray, bits: int, threshold: int, lucky: int, extra: int) -> np.ndarray:
    """A hash ``threshold + extra`` bits from ``row``: chunk ``lucky`` differs by its radius (plus
    ``extra``), every other chunk by one more than its radius, so no other chunk's probes reach it."""
    radii = probe_radii(chunk_count(bits), threshold)
    positions = []
    for chunk, radius in enumerate(radii):
        flips = radius + extra if chunk == lucky else radius + 1
        positions += [little_endian_position(chunk * bits + k) for k in range(flips)]
    return flip_bits(row, np.array(positions, dtype=np.intp))


@cache
def bank_and_table(bits: int) -> tuple[np.ndarray, MultiIndex]:
    bank = random_hashes(np.random.default_rng(bits), BANK_ROWS)
    return bank, MultiIndex.build(hash_words(bank), bits=bits)


@settings(max_examples=40, deadline=None)
@given(
    bits=st.sampled_from([16, 18, 21]),
    threshold=st.integers(0, 48),
    seed=st.integers(0, 2**32 - 1),
)
def test_hashes_at_exactly_the_threshold_are_found_and_one_beyond_are_not(
    bits: int, threshold: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    bank, table = bank_and_table(bits)
    radii = probe_radii(chunk_count(bits), threshold)
    probed = [chunk for chunk, radius in enumerate(radii) if radius >= 0]
    targets = rng.integers(0, BANK_ROWS, 12)
    lucky = rng.choice(probed, 12)
    extras = [0] * 6 + [1] * 6  # six at the threshold, six one beyond
    made = [
        adversarial(bank[t], bits, threshold, int(c), e)
        for t, c, e in zip(targets, lucky, extras, strict=True)
    ]
    queries = np.stack(made + list(random_hashes(rng, 4)))
    words, query_words = hash_words(bank), hash_words(queries)
    distances = np.bitwise_count(hash_words(queries[:12]) ^ words[targets]).sum(axis=1)
    assert distances.tolist() == [threshold] * 6 + [threshold + 1] * 6
    # Only the lucky chunk is within its radius for the hashes at the threshold.
    planted_words = words[targets[:6]]
    chunk_gaps = np.bitwise_count(chunk_values(query_words[:6], bits) ^ chunk_values(planted_words, bits))
    within = chunk_gaps <= np.array(radii)
    assert within.sum(axis=1).tolist() == [1] * 6

    found, crowded = table.matches(words, query_words, threshold, scan_above=10**9)
    assert len(crowded) == 0
    reference = scan(words, query_words, threshold)
    pairs = sorted(zip(found.query.tolist(), found.row.tolist(), found.distance.tolist(), strict=True))
    assert pairs == sorted(zip(reference.query.tolist(), reference.row.tolist(), reference.distance.tolist(),
                               strict=True))  # fmt: skip
    found_pairs = {(q, r) for q, r, _ in pairs}
    assert {(k, int(targets[k])) for k in range(6)} <= found_pairs
    assert not {(6 + k, int(targets[6 + k])) for k in range(6)} & found_pairs


@settings(max_examples=15, deadline=None)
@given(threshold=st.sampled_from([0, 1, 10, 11, 21, 31, 32, 47]), seed=st.integers(0, 2**32 - 1))
def test_the_index_with_wide_chunks_equals_plain_brute_force(threshold: int, seed: int) -> None:
    """Through HammingIndex (the C probes, the dedup, the ids and ordinals), on a bank of near
    duplicates of a few centres (crowded buckets), against plain Python integers."""
    rng = np.random.default_rng(seed)
    centres = random_hashes(rng, 3)
    bank = np.stack([flip_bits(centres[k % 3], rng.choice(256, int(rng.integers(0, 60)), replace=False))
                     for k in range(300)])  # fmt: skip
    queries = np.concatenate([bank[rng.integers(0, 300, 6)], random_hashes(rng, 2)])
    queries[:6] = [flip_bits(q, rng.choice(256, int(rng.integers(0, threshold + 2)), replace=False))
                   for q in queries[:6]]  # fmt: skip
    ids = np.arange(300) // 2  # two hashes an entry: ordinals 0 and 1
    index = HammingIndex.from_arrays(ids, bank, min_indexed_rows=1)
    want = expected({e: [bank[2 * e].tobytes(), bank[2 * e + 1].tobytes()] for e in range(150)}, queries,
                    threshold)  # fmt: skip
    hits = index.search_many(queries, threshold)
    got = list(zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), hits.ordinal.tolist(),
                   strict=True))  # fmt: skip
    assert got == want


def test_a_table_pointing_outside_its_segment_is_refused() -> None:
    """Chunk tables may come from a snapshot file: a row number past the segment is an error, not a read."""
    bank, _ = bank_and_table(16)
    words = hash_words(bank)
    table = MultiIndex.build(words, bits=16)
    broken = MultiIndex(table.offsets, table.rows.copy(), 16)
    broken.rows[:, :] = BANK_ROWS + 5
    with pytest.raises(ValueError, match="outside its segment"):
        broken.matches(words, words[:3], 31, scan_above=10**9)
