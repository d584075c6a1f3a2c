"""Adds, replacements, removals and compaction: visible at once, never a rebuild per add, nothing lost."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from index_reference import as_tuples, expected, flip_bits, near, random_hashes

from stanch.index import HammingIndex, Match

CENTRES = random_hashes(np.random.default_rng(0), 3)


def test_an_added_entry_is_searchable_as_soon_as_add_returns() -> None:
    rng = np.random.default_rng(2)
    bank = random_hashes(rng, 20_000)
    index = HammingIndex.from_arrays(np.arange(20_000), bank, min_indexed_rows=1)
    new = random_hashes(rng, 1)
    assert index.search(new[0].tobytes()) == []
    index.add([99_999], new)
    assert index.search(near(rng, new[0], 31).tobytes()) == [Match(99_999, 31, 0)]
    assert index.stats().delta_rows == 1  # appended, not rebuilt
    assert 99_999 in index and len(index) == 20_001


def test_adding_an_id_again_replaces_all_its_hashes() -> None:
    rng = np.random.default_rng(3)
    old, new = random_hashes(rng, 3), random_hashes(rng, 2)
    index = HammingIndex.from_arrays(np.array([5, 5, 5]), old, min_indexed_rows=1)
    index.add([5, 5], new)
    assert all(index.search(h.tobytes(), threshold=0) == [] for h in old)
    assert index.search(new[1].tobytes(), threshold=0) == [Match(5, 0, 1)]
    assert len(index) == 2
    index.add([5], new[:1])  # replaced again, this time inside the delta
    assert index.search(new[1].tobytes(), threshold=0) == []
    assert len(index) == 1


def test_removal_takes_effect_at_once_and_reports_what_was_present() -> None:
    rng = np.random.default_rng(4)
    hashes = random_hashes(rng, 4)
    index = HammingIndex.from_arrays(np.array([1, 1, 2, 3]), hashes, min_indexed_rows=1)
    index.add([4], random_hashes(rng, 1))
    assert index.remove([1, 4, 77]) == 2
    assert index.remove([1]) == 0
    assert index.search(hashes[0].tobytes()) == []
    assert [m.id for m in index.search(hashes[2].tobytes(), threshold=0)] == [2]
    assert 1 not in index and 2 in index and len(index) == 2


def test_results_give_each_entry_once_with_its_closest_hash() -> None:
    rng = np.random.default_rng(5)
    query = random_hashes(rng, 1)[0]
    variants = np.stack([near(rng, query, d) for d in (20, 3, 3, 9)])
    index = HammingIndex.from_arrays(np.array([8, 8, 8, 8]), variants)
    index.add([9], np.stack([near(rng, query, 1)]))
    assert index.search(query.tobytes()) == [Match(9, 1, 0), Match(8, 3, 1)]


def test_best_keeps_one_hit_per_entry_and_group_of_queries() -> None:
    rng = np.random.default_rng(6)
    bank = random_hashes(rng, 2)
    index = HammingIndex.from_arrays(np.array([10, 11]), bank)
    # Two uploads of two hashes each (say a picture and its mirror): groups 0, 0, 1, 1.
    queries = np.stack([near(rng, bank[0], 12), near(rng, bank[0], 4), near(rng, bank[1], 30), bank[0]])
    best = index.search_many(queries).best(np.array([0, 0, 1, 1]))
    assert as_tuples(best) == [(1, 10, 4, 0), (3, 10, 0, 0), (2, 11, 30, 0)]


def test_compaction_folds_the_delta_in_and_keeps_results() -> None:
    rng = np.random.default_rng(7)
    bank = random_hashes(rng, 1000)
    index = HammingIndex.from_arrays(np.arange(1000), bank, min_indexed_rows=1, compact_after=50)
    added = random_hashes(rng, 60)
    index.add(np.arange(2000, 2060), added)
    index.remove(np.arange(0, 1000, 2))
    queries = np.concatenate([added[:5], random_hashes(rng, 3)])
    before = as_tuples(index.search_many(queries, 100))
    assert index.needs_compaction
    assert index.compact()
    assert not index.needs_compaction and not index.compact()
    assert index.stats().delta_rows == 0 and index.stats().dead_rows == 0 and len(index) == 560
    assert as_tuples(index.search_many(queries, 100)) == before


def test_small_compactions_build_a_recent_segment_and_leave_the_base_alone() -> None:
    rng = np.random.default_rng(12)
    bank = random_hashes(rng, 4000)
    index = HammingIndex.from_arrays(np.arange(4000), bank, min_indexed_rows=1, compact_after=100)
    base = index._snapshot.base
    for round_number in range(3):
        first = 10_000 + 100 * round_number
        index.add(np.arange(first, first + 100), random_hashes(rng, 100))
        index.remove([round_number, first - 1])
        assert index.needs_compaction and index.compact()
    stats = index.stats()
    assert index._snapshot.base is base and stats.recent_rows == 298 and stats.delta_rows == 0
    assert stats.dead_rows == 3 and len(index) == 4000 - 3 + 300 - 2  # entries 10099 and 10199 went too
    assert index.search(bank[5].tobytes(), 0) == [Match(5, 0, 0)] and index.search(bank[1].tobytes(), 0) == []
    index.add(np.arange(20_000, 20_300), random_hashes(rng, 300))  # recent + delta reach 1/8 of the base
    assert index.compact()
    assert index.stats().base_rows == 4000 - 3 + 600 - 2 and index.stats().recent_rows == 0


@pytest.mark.parametrize("full", [False, True], ids=["recent", "base"])
def test_adds_and_removals_made_while_compaction_builds_are_kept(full: bool) -> None:
    rng = np.random.default_rng(8)
    first = random_hashes(rng, 300)
    index = HammingIndex.from_arrays(np.arange(300), first, min_indexed_rows=1)
    index.add([300, 301], random_hashes(rng, 2))
    late, replaced = random_hashes(rng, 1), random_hashes(rng, 1)
    build = index._merged

    def build_while_writing(frozen, full):  # type: ignore[no-untyped-def]
        base = build(frozen, full)
        index.add([500], late)  # a new entry, added mid-compaction
        index.add([7], replaced)  # an entry of the frozen base, replaced mid-compaction
        index.remove([300, 8])  # one from the frozen delta, one from the frozen base
        return base

    index._merged = build_while_writing  # type: ignore[method-assign]
    assert index.compact(full=full)
    assert index.stats().recent_rows == (0 if full else 2)
    assert index.search(late[0].tobytes(), 0) == [Match(500, 0, 0)]
    assert index.search(replaced[0].tobytes(), 0) == [Match(7, 0, 0)]
    assert index.search(first[7].tobytes(), 0) == []
    assert 300 not in index and 8 not in index and 301 in index
    assert len(index) == 300 + 2 + 1 - 2


def hashes_near_centres(draw: st.DrawFn, count: int) -> np.ndarray:
    rows = []
    for _ in range(count):
        centre = draw(st.integers(0, len(CENTRES) - 1))
        flips = draw(st.sets(st.integers(0, 255), max_size=45))
        rows.append(flip_bits(CENTRES[centre], np.array(sorted(flips), dtype=np.intp)))
    return np.stack(rows) if rows else np.empty((0, 32), np.uint8)


@st.composite
def operations(draw: st.DrawFn) -> list[tuple[str, object, object]]:
    steps: list[tuple[str, object, object]] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["add", "add", "remove", "compact"]))
        if kind == "add":
            ids = draw(st.lists(st.integers(0, 12), min_size=1, max_size=6))
            steps.append(("add", ids, hashes_near_centres(draw, len(ids))))
        elif kind == "remove":
            steps.append(("remove", draw(st.lists(st.integers(0, 14), max_size=4)), None))
        else:
            steps.append(("compact", None, None))
    return steps


@st.composite
def probes(draw: st.DrawFn) -> np.ndarray:
    return hashes_near_centres(draw, draw(st.integers(1, 4)))


@settings(max_examples=60, deadline=None)
@given(
    steps=operations(),
    queries=probes(),
    threshold=st.integers(0, 80),
    min_indexed_rows=st.sampled_from([1, 10**9]),
    start_with_a_base=st.booleans(),
)
def test_any_sequence_of_changes_searches_like_brute_force(
    steps: list[tuple[str, object, object]],
    queries: np.ndarray,
    threshold: int,
    min_indexed_rows: int,
    start_with_a_base: bool,
) -> None:
    model: dict[int, list[bytes]] = {}
    index = HammingIndex(min_indexed_rows=min_indexed_rows)
    if start_with_a_base:  # large enough that compactions build a recent segment, not a new base
        base = np.stack([flip_bits(CENTRES[k % 3], np.arange(k % 50) * 5) for k in range(400)])
        index = HammingIndex.from_arrays(np.arange(400) // 2, base, min_indexed_rows=min_indexed_rows)
        model = {entry: [base[2 * entry].tobytes(), base[2 * entry + 1].tobytes()] for entry in range(200)}
    for kind, ids, hashes in steps:
        if kind == "add":
            assert isinstance(ids, list) and isinstance(hashes, np.ndarray)
            index.add(np.array(ids), hashes)
            for entry in dict.fromkeys(ids):
                model[entry] = [h.tobytes() for i, h in zip(ids, hashes, strict=True) if i == entry]
        elif kind == "remove":
            assert isinstance(ids, list)
            assert index.remove(ids) == len(set(ids) & model.keys())
            for entry in ids:
                model.pop(entry, None)
        else:
            index.compact()
    assert as_tuples(index.search_many(queries, threshold)) == expected(model, queries, threshold)
    assert len(index) == sum(len(h) for h in model.values())
