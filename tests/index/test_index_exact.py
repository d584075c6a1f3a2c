"""Exactness: every banked hash within the threshold is found, nothing farther, at any threshold."""

from __future__ import annotations

import numpy as np
import pytest
from index_reference import as_tuples, expected, flip_bits, near, random_hashes, spread

from stanch.index import HammingIndex
from stanch.index.distance import hash_words
from stanch.index.multi_index import MultiIndex, scan

THRESHOLDS = [0, 1, 15, 16, 31, 32, 47, 48, 63, 64, 100, 256]


def bank_of(hashes: np.ndarray) -> dict[int, list[bytes]]:
    return {row: [hashes[row].tobytes()] for row in range(len(hashes))}


@pytest.mark.parametrize("min_indexed_rows", [1, 10**9], ids=["chunk-tables", "scan"])
def test_planted_near_duplicates_at_every_distance_up_to_31_are_all_found(min_indexed_rows: int) -> None:
    rng = np.random.default_rng(1)
    bank = random_hashes(rng, 3000)
    index = HammingIndex.from_arrays(np.arange(3000) * 7, bank, min_indexed_rows=min_indexed_rows)
    targets = rng.integers(0, 3000, size=32 * 4)
    # Half at random bit positions, half spread over every chunk (the hardest case for the probes).
    queries = np.stack(
        [near(rng, bank[t], k % 32) if k % 2 else spread(bank[t], k % 32) for k, t in enumerate(targets)]
    )

    for k, (target, query) in enumerate(zip(targets, queries, strict=True)):
        found = {match.id: match.distance for match in index.search(query.tobytes())}
        assert found.get(int(target) * 7) == k % 32


@pytest.mark.parametrize("threshold", range(64))
def test_the_hardest_near_duplicate_at_each_threshold_is_found(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    bank = random_hashes(rng, 500)
    index = HammingIndex.from_arrays(np.arange(500), bank, min_indexed_rows=1)
    assert [m.id for m in index.search(spread(bank[17], threshold), threshold) if m.id == 17] == [17]
    assert 17 not in {m.id for m in index.search(spread(bank[17], threshold + 1), threshold)}


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_search_many_equals_brute_force_at_any_threshold(threshold: int) -> None:
    rng = np.random.default_rng(threshold)
    centres = random_hashes(rng, 4)
    # Near-duplicates of a few centres: crowded buckets, many matches at every distance.
    bank = np.stack([near(rng, centres[k % 4], int(rng.integers(0, 80))) for k in range(600)])
    close = np.stack([near(rng, centres[k % 4], int(rng.integers(0, 80))) for k in range(12)])
    queries = np.concatenate([close, random_hashes(rng, 4)])
    want = expected(bank_of(bank), queries, threshold)
    for min_indexed_rows in (1, 10**9):
        index = HammingIndex.from_arrays(np.arange(600), bank, min_indexed_rows=min_indexed_rows)
        assert as_tuples(index.search_many(queries, threshold)) == want


@pytest.mark.parametrize("threshold", [0, 15, 16, 31, 32, 47, 48, 63])
def test_chunk_tables_alone_find_everything_within_the_threshold(threshold: int) -> None:
    """The pigeonhole argument, without the scan fallback that crowded queries get."""
    rng = np.random.default_rng(100 + threshold)
    bank = random_hashes(rng, 2000)
    queries = np.stack([spread(bank[k], int(rng.integers(0, threshold + 1))) for k in range(40)])
    words, query_words = hash_words(bank), hash_words(queries)
    found, crowded = MultiIndex.build(words).matches(words, query_words, threshold, scan_above=10**9)
    assert len(crowded) == 0
    reference = scan(words, query_words, threshold)
    pairs = sorted(zip(found.query.tolist(), found.row.tolist(), strict=True))
    assert pairs == sorted(zip(reference.query.tolist(), reference.row.tolist(), strict=True))  # each once
    planted = set(zip(range(40), range(40), strict=True))  # query k was made from row k
    assert planted <= set(zip(found.query.tolist(), found.row.tolist(), strict=True))


def test_a_hash_just_beyond_the_threshold_is_not_returned() -> None:
    rng = np.random.default_rng(7)
    bank = random_hashes(rng, 1)
    index = HammingIndex.from_arrays(np.array([42]), bank, min_indexed_rows=1)
    assert [m.id for m in index.search(near(rng, bank[0], 31).tobytes())] == [42]
    assert index.search(near(rng, bank[0], 32).tobytes()) == []
    assert [m.distance for m in index.search(near(rng, bank[0], 32).tobytes(), threshold=32)] == [32]


def test_conformance_haystack_needles_match_brute_force(conformance) -> None:  # type: ignore[no-untyped-def]
    folder = conformance / "pdq" / "reg-test-input"
    haystack = [bytes.fromhex(line) for line in (folder / "haystack.txt").read_text().split()]
    needles = [bytes.fromhex(line) for line in (folder / "needles.txt").read_text().split()]
    assert (len(haystack), len(needles)) == (1350, 100)
    hay = np.frombuffer(b"".join(haystack), np.uint8).reshape(-1, 32)
    needle_array = np.frombuffer(b"".join(needles), np.uint8).reshape(-1, 32)
    want = expected(bank_of(hay), needle_array, 31)
    assert len(want) > 0
    for min_indexed_rows in (1, 10**9):
        index = HammingIndex.from_arrays(np.arange(len(hay)), hay, min_indexed_rows=min_indexed_rows)
        assert as_tuples(index.search_many(needle_array)) == want


def test_candidate_counts_show_how_much_each_query_compares() -> None:
    rng = np.random.default_rng(11)
    bank = random_hashes(rng, 5000)
    bank[:2000] = bank[0]  # one crowded picture
    index = HammingIndex.from_arrays(np.arange(5000), bank, min_indexed_rows=1)
    index.add([9000], random_hashes(rng, 1))
    crowded, lonely = index.candidate_counts(np.stack([bank[0], bank[4000]]))
    assert crowded == 5000 + 1  # more than 1/8 of the rows: scanned in full, plus the delta row
    assert 16 <= lonely < 200  # its own row in each of the 16 tables, a few neighbours, the delta
    assert index.candidate_counts(bank[:1], threshold=64).tolist() == [5001]


def spread_over(hash_row: np.ndarray, distance: int, bits: int) -> np.ndarray:
    """A hash ``distance`` bits away, the flips dealt round-robin over the chunks of ``bits`` bits
    (the bits of the 256-bit little-endian number the chunk tables read), so every chunk differs by
    ``distance // chunks`` bits or more: only probes at exactly the pigeonhole radius find it."""
    chunks = 256 // bits
    number_bits = [bits * (k % chunks) + k // chunks for k in range(distance)]
    # Bit i of the little-endian number is bit i % 8 (from the least significant) of byte i // 8;
    # np.unpackbits numbers bits most significant first.
    positions = np.array([8 * (i // 8) + 7 - i % 8 for i in number_bits], dtype=np.intp)
    return flip_bits(hash_row, positions)


@pytest.mark.parametrize(
    ("bits", "threshold"),
    [(b, t) for b in (17, 20, 21, 22, 23, 24) for t in (0, 10, 31, 32, 40) if (b, t) != (24, 40)],
)
def test_wide_chunk_tables_find_everything_within_the_threshold(bits: int, threshold: int) -> None:
    """Chunks wider than 16 bits (large segments use them) keep the pigeonhole guarantee, including
    the bits left over when the width does not divide 256, and report each (query, row) once."""
    rng = np.random.default_rng(bits * 100 + threshold)
    bank = random_hashes(rng, 1500)
    queries = np.stack(
        [spread_over(bank[k], threshold, bits) for k in range(20)]
        + [near(rng, bank[20 + k], int(rng.integers(0, threshold + 1))) for k in range(20)]
    )
    words, query_words = hash_words(bank), hash_words(queries)
    table = MultiIndex.build(words, bits=bits)
    assert table.bits == bits and table.rows.shape[0] == 256 // bits
    found, crowded = table.matches(words, query_words, threshold, scan_above=10**9)
    assert len(crowded) == 0
    reference = scan(words, query_words, threshold)
    pairs = sorted(zip(found.query.tolist(), found.row.tolist(), strict=True))
    assert pairs == sorted(zip(reference.query.tolist(), reference.row.tolist(), strict=True))
    planted = {(k, k) for k in range(20)} | {(20 + k, 20 + k) for k in range(20)}
    assert planted <= set(pairs)


def test_the_spread_helper_really_reaches_every_chunk() -> None:
    """The hardest case is only hard if each chunk differs by the pigeonhole radius: check it."""
    from stanch.index.multi_index import chunk_values

    rng = np.random.default_rng(5)
    row = random_hashes(rng, 1)
    for bits in (16, 21, 23):
        moved = spread_over(row[0], 31, bits)[None, :]
        before, after = chunk_values(hash_words(row), bits), chunk_values(hash_words(moved), bits)
        differing = np.bitwise_count(before ^ after)
        assert differing.min() == 31 // (256 // bits)


def test_chunk_width_grows_with_the_segment() -> None:
    from stanch.index.multi_index import chunk_bits_for

    assert chunk_bits_for(16_384) == 16
    widths = [chunk_bits_for(n) for n in (10**5, 10**6, 10**7, 10**8)]
    assert widths == sorted(widths) and widths[-1] > 16


def test_a_large_threshold_on_wide_chunks_is_left_for_a_full_scan() -> None:
    rng = np.random.default_rng(9)
    bank = random_hashes(rng, 300)
    words = hash_words(bank)
    table = MultiIndex.build(words, bits=23)
    found, crowded = table.matches(words, words[:5], 100, scan_above=10**9)
    assert len(found.row) == 0 and crowded.tolist() == [0, 1, 2, 3, 4]
    assert table.candidate_counts(words, words[:2], 100).tolist() == [300, 300]


def test_the_radix_order_is_numpys_stable_argsort() -> None:
    from stanch.index.multi_index import stable_order

    rng = np.random.default_rng(3)
    for bits in (16, 20, 24):
        keys = rng.integers(0, 1 << bits, 5000).astype(np.uint32)
        keys[:300] = keys[0]  # ties, whose order must stay by row
        assert np.array_equal(stable_order(keys, bits), np.argsort(keys, kind="stable"))
