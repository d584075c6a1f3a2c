"""The index at large N in process: candidates a query, single-lookup tail, batched lookups, 1 and 2 threads.

One bank of N random PDQ hashes (default 10M) in a ``HammingIndex`` (the chunk width it picks for N),
queries half planted near-duplicates (0-31 bits from a banked hash) and half random misses. Printed,
each with its baseline from the same run:

- hashes compared in full a query (median, p99) with the chosen layout, against 16-bit chunk tables
  (what every segment used before issue 16) and 22-bit ones (the width chosen for 10M before the
  per-chunk probe radii): counts, so the machine's load does not change them;
- single lookups (``search``): p50, p99 and p99/p50, wall clock and in the thread's CPU time (which
  leaves out the time other jobs hold the cores), against a numpy brute force (XOR and popcount of
  every row) of a few of the same queries;
- batched lookups (``search_many``, batches of 1,000): lookups a second on 1 and 2 threads (the C
  probes release the GIL), wall clock and per CPU-second of this process;
- exactness: the results of 200 queries equal a full scan (``hamming_scan``) of the same queries, and
  every planted near-duplicate is found at its distance.

    python benchmarks/index_lookups.py [--hashes 10000000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from stanch.index import HammingIndex
from stanch.index.multi_index import MultiIndex, chunk_bits_for, scan

THRESHOLD = 31
BATCH = 1000
EXACT_QUERIES = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=2000, help="half planted, half misses")
    args = parser.parse_args()
    print(f"load average at the start: {_load()} on {os.cpu_count()} CPUs; {args.hashes:,} hashes")
    rng = np.random.default_rng(16)
    bank = rng.integers(0, 256, (args.hashes, 32), dtype=np.uint8)
    half = args.queries // 2
    targets = rng.choice(args.hashes, half, replace=False)
    distances = rng.integers(0, THRESHOLD + 1, half)
    bits = np.unpackbits(bank[targets], axis=1)
    for row, flips in zip(bits, distances, strict=True):
        row[rng.choice(256, flips, replace=False)] ^= 1
    queries = np.concatenate([np.packbits(bits, axis=1), rng.integers(0, 256, (half, 32), np.uint8)])
    queries = queries[rng.permutation(len(queries))]

    started = time.perf_counter()
    index = HammingIndex.from_arrays(np.arange(args.hashes), bank)
    table = index.base.table
    assert table is not None
    print(f"built in {time.perf_counter() - started:.1f} s: {256 // table.bits} tables of {table.bits} bits, "
          f"{index.stats().nbytes / args.hashes:.0f} bytes a hash in all")  # fmt: skip

    report_candidates(index, bank, queries)
    report_single(index, bank, queries)
    report_batches(index, queries)
    report_exactness(index, bank, queries, targets, distances)
    print(f"load average at the end: {_load()}")


def report_candidates(index: HammingIndex, bank: np.ndarray, queries: np.ndarray) -> None:
    counts = index.candidate_counts(queries)
    words, query_words = bank.view(np.uint64), queries.view(np.uint64)
    share = np.median(counts) / len(bank)
    print(f"hashes compared a query, chosen layout: median {np.median(counts):,.0f}, "
          f"p99 {np.percentile(counts, 99):,.0f} ({share:.4%} of the bank)")  # fmt: skip
    for bits in (16, 22):
        if bits == chunk_bits_for(len(bank)):
            continue
        other = MultiIndex.build(words, bits=bits).candidate_counts(words, query_words, THRESHOLD)
        print(f"  baseline, {256 // bits} tables of {bits} bits: median {np.median(other):,.0f}, "
              f"p99 {np.percentile(other, 99):,.0f} "
              f"({np.median(other) / np.median(counts):.1f}x)")  # fmt: skip


def report_single(index: HammingIndex, bank: np.ndarray, queries: np.ndarray) -> None:
    for query in queries[:50]:  # warm the caches and the probe masks
        index.search(query.tobytes())
    seconds, cpu = [], []
    for query in queries:
        started, used = time.perf_counter(), time.thread_time()
        index.search(query.tobytes())
        seconds.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - used)
    p50, p99 = np.percentile(seconds, 50), np.percentile(seconds, 99)
    cpu50, cpu99 = np.percentile(cpu, 50), np.percentile(cpu, 99)
    words = bank.view(np.uint64)
    brute = []
    for query in queries[:10]:
        started = time.perf_counter()
        np.flatnonzero(np.bitwise_count(words ^ query.view(np.uint64)).sum(axis=1) <= THRESHOLD)
        brute.append(time.perf_counter() - started)
    print(f"single lookups (search): p50 {p50 * 1e3:.3f} ms, p99 {p99 * 1e3:.3f} ms, "
          f"p99/p50 {p99 / p50:.1f}; numpy brute force p50 {np.median(brute) * 1e3:.0f} ms "
          f"({np.median(brute) / p50:,.0f}x)")  # fmt: skip
    print(f"  the same lookups in this thread's CPU time (waits for the cores left out): p50 "
          f"{cpu50 * 1e3:.3f} ms, p99 {cpu99 * 1e3:.3f} ms, p99/p50 {cpu99 / cpu50:.1f}")  # fmt: skip


def report_batches(index: HammingIndex, queries: np.ndarray) -> None:
    batches = [queries[k : k + BATCH] for k in range(0, len(queries), BATCH)] * 3
    for threads in (1, 2):
        cpu, started = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(index.search_many, batches))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        total = sum(len(b) for b in batches)
        print(f"batched lookups (search_many of {BATCH:,}), {threads} thread(s): {total / wall:,.0f}/s "
              f"({total / cpu:,.0f} a CPU-second)")  # fmt: skip


def report_exactness(
    index: HammingIndex, bank: np.ndarray, queries: np.ndarray, targets: np.ndarray, distances: np.ndarray
) -> None:
    found = index.search_many(queries)
    pairs = set(zip(found.id.tolist(), found.distance.tolist(), strict=True))
    planted = sum((int(t), int(d)) in pairs for t, d in zip(targets, distances, strict=True))
    # The full scan compares every row with every query: EXACT_QUERIES keep it to seconds at 10M.
    checked = queries[:EXACT_QUERIES]
    hits = index.search_many(checked)
    reference = scan(bank.view(np.uint64), checked.view(np.uint64), THRESHOLD)
    got = sorted(zip(hits.query.tolist(), hits.id.tolist(), hits.distance.tolist(), strict=True))
    columns = (reference.query.tolist(), reference.row.tolist(), reference.distance.tolist())
    want = sorted(zip(*columns, strict=True))
    print(f"same results as a full scan for {len(checked)} queries: {'yes' if got == want else 'NO'} "
          f"({len(got):,} hits); planted near-duplicates found at their distance: {planted} of "
          f"{len(targets)}")  # fmt: skip


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
