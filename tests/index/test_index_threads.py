"""Searches from many threads while another thread writes and compacts: each search sees one state."""

from __future__ import annotations

import threading

import numpy as np
from index_reference import random_hashes

from stanch.index import HammingIndex

ENTRIES = 2_000
ROUNDS = 300


def test_a_replaced_entry_is_always_seen_with_exactly_one_of_its_hashes() -> None:
    rng = np.random.default_rng(9)
    bank = random_hashes(rng, ENTRIES)
    old, new = random_hashes(rng, 2)
    bank[0] = old
    index = HammingIndex.from_arrays(np.arange(ENTRIES), bank, min_indexed_rows=1, compact_after=64)
    both = np.stack([old, new])
    failures: list[str] = []
    done = threading.Event()

    def write() -> None:
        try:
            for round_number in range(ROUNDS):
                index.add([0], both[(round_number + 1) % 2 : (round_number + 1) % 2 + 1])
                index.add([ENTRIES + round_number], random_hashes(rng, 1))
                index.remove([1 + round_number])
        finally:
            done.set()

    def compact() -> None:
        while not done.is_set():
            index.compact()

    def search() -> None:
        while not done.is_set():
            hits = index.search_many(both, threshold=0)
            if hits.id.tolist().count(0) != 1:
                failures.append(f"entry 0 seen {hits.id.tolist().count(0)} times")

    threads = [threading.Thread(target=f) for f in (write, compact, search, search)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(index) == ENTRIES + ROUNDS - ROUNDS
    assert [m.id for m in index.search(both[ROUNDS % 2].tobytes(), 0)] == [0]
    assert all(round_number + 1 not in index for round_number in range(ROUNDS))
    assert all(ENTRIES + round_number in index for round_number in range(ROUNDS))
