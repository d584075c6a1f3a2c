"""How fast and how lean is the exact index, against a numpy brute force over the same hashes?

Builds a HammingIndex over N random PDQ-sized hashes (default 1M) and searches it with realistic
queries: half planted near-duplicates of random banked hashes at random distances 0..31, half random
hashes that match nothing. Prints, each next to the brute force measured in the same run (XOR and
np.bitwise_count over the same (N, 4) uint64 array): single-lookup latency, batched lookups a second
(one and two threads), recall, build time and bytes a hash, the cost of adds, removals and a
compaction. Then the same on a skewed bank (near-duplicates of a few thousand cluster centres, as real
PDQ banks are) with its candidate counts. ``--big`` adds a 10M build with the process's memory.

    python benchmarks/match.py [--size 1000000] [--queries 1000] [--big]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from stanch.index import HammingIndex
from stanch.index.distance import popcount_rows

THRESHOLD = 31
CLUSTERS = 2_000


def random_hashes(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 256, (count, 32), dtype=np.uint8)


def flip_random_bits(rng: np.random.Generator, hashes: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Each row with exactly ``distances[i]`` of its 256 bits flipped, at random positions."""
    bits = np.unpackbits(hashes, axis=1)
    order = np.argsort(rng.random(bits.shape), axis=1)
    flip = order < distances[:, None]
    return np.packbits(bits ^ flip, axis=1)


def skewed_bank(rng: np.random.Generator, count: int) -> np.ndarray:
    """Near-duplicates of CLUSTERS centres: each bit flipped with a per-row probability up to 10%."""
    centres = random_hashes(rng, CLUSTERS)
    out = np.empty((count, 32), np.uint8)
    for first in range(0, count, 100_000):
        rows = min(100_000, count - first)
        chance = (rng.random(rows) * 0.10 * 256).astype(np.uint16)[:, None]
        mask = rng.integers(0, 256, (rows, 256), dtype=np.uint16) < chance
        out[first : first + rows] = centres[rng.integers(0, CLUSTERS, rows)] ^ np.packbits(mask, axis=1)
    return out


def queries_for(
    rng: np.random.Generator, bank: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planted near-duplicates (first half) then random hashes; the planted row and distance of each."""
    planted = count // 2
    rows = rng.integers(0, len(bank), planted)
    distances = rng.integers(0, THRESHOLD + 1, planted)
    queries = np.concatenate(
        [flip_random_bits(rng, bank[rows], distances), random_hashes(rng, count - planted)]
    )
    return queries, rows, distances


def brute_force(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The baseline: rows within THRESHOLD of one query, by scanning every hash."""
    return np.flatnonzero(popcount_rows(words ^ query.view(np.uint64)) <= THRESHOLD)


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def latencies(function: Callable[[np.ndarray], object], queries: np.ndarray) -> list[float]:
    return [timed(lambda q=q: function(q))[0] for q in queries]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def rss_mb() -> tuple[float, float]:
    """The process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def build(ids: np.ndarray, hashes: np.ndarray) -> tuple[HammingIndex, float, int]:
    tracemalloc.start()
    seconds, index = timed(lambda: HammingIndex.from_arrays(ids, hashes))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert isinstance(index, HammingIndex)
    return index, seconds, peak


def lookups_per_second(index: HammingIndex, queries: np.ndarray, threads: int) -> tuple[float, float]:
    """Batched lookups a second of wall time, and a second of this process's CPU time.

    The CPU figure is what the index costs when other programs share the cores.
    """
    parts = np.array_split(queries, threads * 4)
    cpu = time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        seconds, _ = timed(lambda: list(pool.map(index.search_many, parts)))
    return len(queries) / seconds, len(queries) / (time.process_time() - cpu)


def report_searches(
    name: str, bank: np.ndarray, index: HammingIndex, queries: np.ndarray, brute_count: int
) -> None:
    words = bank.view(np.uint64)
    brute = latencies(lambda q: brute_force(words, q), queries[:brute_count])
    single = latencies(lambda q: index.search(q.tobytes()), queries)
    brute_median, median = statistics.median(brute), statistics.median(single)
    print(
        f"[{name}] single lookup: index median {ms(median)}, p99 {ms(float(np.percentile(single, 99)))}; "
        f"brute force median {ms(brute_median)} -> {brute_median / median:.0f}x faster"
    )
    (one, one_cpu), (two, two_cpu) = (
        lookups_per_second(index, queries, 1),
        lookups_per_second(index, queries, 2),
    )
    print(
        f"[{name}] batched: {one:,.0f} lookups/s on 1 thread, {two:,.0f} on 2 threads "
        f"({one_cpu:,.0f} and {two_cpu:,.0f} a CPU-second); brute force {1 / statistics.mean(brute):,.0f}/s "
        f"-> {max(one, two) * statistics.mean(brute):.0f}x"
    )
    hits = index.search_many(queries[:brute_count])
    same = all(
        set(hits.id[hits.query == k].tolist()) == set(brute_force(words, q).tolist())
        for k, q in enumerate(queries[:brute_count])
    )
    counts = index.candidate_counts(queries)
    print(
        f"[{name}] same results as brute force on {brute_count} queries: {same}; hashes compared a query: "
        f"median {np.median(counts):,.0f}, p99 {np.percentile(counts, 99):,.0f}, max {counts.max():,}"
    )


def report_recall(index: HammingIndex, queries: np.ndarray, rows: np.ndarray, distances: np.ndarray) -> None:
    hits = index.search_many(queries[: len(rows)])
    found = {
        (q, i): d
        for q, i, d in zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True)
    }
    recalled = sum(
        found.get((k, int(row))) == int(d) for k, (row, d) in enumerate(zip(rows, distances, strict=True))
    )
    print(
        f"[uniform] planted near-duplicates at distances 0..31 found at their distance: "
        f"{recalled}/{len(rows)} ({100 * recalled / len(rows):.1f}% recall)"
    )


def report_changes(rng: np.random.Generator, index: HammingIndex, size: int) -> None:
    adds = [timed(lambda k=k: index.add([size + k], random_hashes(rng, 1)))[0] for k in range(1000)]
    removes = [timed(lambda k=k: index.remove([k]))[0] for k in range(1000)]
    print(
        f"[changes] add of one hash: median {ms(statistics.median(adds))}, max {ms(max(adds))}; "
        f"remove: median {ms(statistics.median(removes))}, max {ms(max(removes))} (no rebuild)"
    )
    index.add(np.arange(2 * size, 2 * size + 7_192), random_hashes(rng, 7_192))
    queries = random_hashes(rng, 200)
    with_delta = statistics.median(latencies(lambda q: index.search(q.tobytes()), queries))
    delta_rows = index.stats().delta_rows
    recent_seconds, _ = timed(index.compact)
    with_recent = statistics.median(latencies(lambda q: index.search(q.tobytes()), queries))
    stats = index.stats()
    full_seconds, _ = timed(lambda: index.compact(full=True))
    rebuilt = statistics.median(latencies(lambda q: index.search(q.tobytes()), queries))
    print(
        f"[changes] lookup median with {delta_rows:,} rows in the delta: {ms(with_delta)}; compaction "
        f"into a recent segment: {recent_seconds:.3f} s, then lookup median {ms(with_recent)}"
    )
    print(
        f"[changes] full rebuild of the base ({stats.base_rows:,} + {stats.recent_rows:,} recent rows, "
        f"{stats.dead_rows:,} dead): {full_seconds:.2f} s, then lookup median {ms(rebuilt)} "
        f"(both run beside searches and writes)"
    )


def report_build(name: str, index: HammingIndex, seconds: float, peak: int) -> None:
    stats = index.stats()
    print(
        f"[{name}] build of {stats.hashes:,} hashes: {seconds:.2f} s; index arrays "
        f"{stats.nbytes / 2**20:,.0f} MB = {stats.nbytes / stats.hashes:.0f} bytes a hash "
        f"(hashes and ids included), tracemalloc peak of the build {peak / 2**20:,.0f} MB"
    )


def run(size: int, query_count: int) -> None:
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rng = np.random.default_rng(2026)
    bank = random_hashes(rng, size)
    index, seconds, peak = build(np.arange(size), bank)
    report_build("uniform", index, seconds, peak)
    queries, rows, distances = queries_for(rng, bank, query_count)
    report_searches("uniform", bank, index, queries, brute_count=200)
    report_recall(index, queries, rows, distances)
    report_changes(rng, index, size)
    del index
    skewed = skewed_bank(rng, size)
    index, seconds, peak = build(np.arange(size), skewed)
    report_build("skewed", index, seconds, peak)
    skewed_queries, _, _ = queries_for(rng, skewed, query_count)
    report_searches("skewed", skewed, index, skewed_queries, brute_count=200)


def run_big(size: int) -> None:
    rng = np.random.default_rng(10)
    bank = random_hashes(rng, size)
    before, _ = rss_mb()
    index, seconds, peak = build(np.arange(size), bank)
    report_build("big", index, seconds, peak)
    now, high = rss_mb()
    print(
        f"[big] process memory: {before:,.0f} MB with the bare arrays, {now:,.0f} MB with the index "
        f"({now / size * 2**20:.0f} bytes a hash in all), peak {high:,.0f} MB"
    )
    queries, _, _ = queries_for(rng, bank, 400)
    report_searches("big", bank, index, queries, brute_count=10)


def run_widths(size: int, query_count: int) -> None:
    """The chunk width chosen for ``size`` rows against the 16-bit chunks every segment used before,
    on the same bank and queries in the same process: build, bytes, candidates, single-lookup latency."""
    from stanch.index.multi_index import MultiIndex, chunk_bits_for
    from stanch.index.segment import Segment

    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rng = np.random.default_rng(16)
    bank = random_hashes(rng, size)
    words = bank.view(np.uint64)
    queries, _, _ = queries_for(rng, bank, query_count)
    query_words = queries.view(np.uint64)
    ids = np.arange(size, dtype=np.int64)
    figures = {}
    for label, bits in (("16-bit chunks", 16), ("chosen width", chunk_bits_for(size))):
        seconds, table = timed(lambda bits=bits: MultiIndex.build(words, bits=bits))
        segment = Segment(ids, words, None, table)  # type: ignore[arg-type]
        single = latencies(
            lambda q, segment=segment: segment.matches(q.view(np.uint64)[None, :], THRESHOLD), queries
        )
        counts = segment.candidate_counts(query_words, THRESHOLD)
        found = segment.matches(query_words[:50], THRESHOLD)
        figures[label] = statistics.median(single)
        print(
            f"[widths] {label} ({bits} bits, {256 // bits} tables) at {size:,} hashes: "
            f"build {seconds:.1f} s, "
            f"tables {table.nbytes / size:.0f} bytes a hash; hashes compared a query median "
            f"{np.median(counts):,.0f}; single lookup median {ms(statistics.median(single))}, "
            f"p99 {ms(float(np.percentile(single, 99)))}; {len(found.row)} matches for 50 queries"
        )
        del segment, table
    ratio = figures["16-bit chunks"] / figures["chosen width"]
    print(f"[widths] chosen width is {ratio:.1f}x the 16-bit chunks' median lookup, same bank, same run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--big", action="store_true", help="also build and search 10M hashes (~2.5 GB RAM)")
    parser.add_argument(
        "--widths", type=int, metavar="N", help="only compare chunk widths on N hashes (10M: ~2 GB RAM)"
    )
    options = parser.parse_args()
    if options.widths:
        run_widths(options.widths, options.queries)
        return
    run(options.size, options.queries)
    if options.big:
        run_big(10_000_000)


if __name__ == "__main__":
    main()
