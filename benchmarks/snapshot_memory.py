"""Memory of N processes sharing one index snapshot: PSS and USS from /proc/<pid>/smaps_rollup.

Builds one base segment of N random hashes (default 10M), writes it as an index snapshot
(``stanch.matching.snapshot.SnapshotDir``, the files ``stanch serve --workers`` maps), then starts one
and then two worker processes that each map it read-only (``HammingIndex.from_segment``), read every
page of it (as a server does once its lookups have reached the whole bank) and answer lookups. Prints
the map-and-first-lookup time, each worker's PSS and USS, the p50 and p99 of 1,000 single lookups
once every page is read, and the two workers' total PSS against one
worker's (target: at most 1.3x). No database and no HTTP: this measures the sharing itself.

    python benchmarks/snapshot_memory.py [--hashes 10000000]
    python benchmarks/snapshot_memory.py --hashes 30000000 --huge-pages

``--huge-pages``: instead, one worker at a time on a cold page cache (the files' pages dropped with
``posix_fadvise(DONTNEED)`` after ``sync``), first without and then with the ``MADV_HUGEPAGE`` advice
(``stanch.matching.snapshot.ADVISE_HUGE_PAGES``): 2,000 lookups at random first, as a restarted server
meets them, then every page read, the share of the mapping held in huge pages (``FilePmdMapped``), and
1,000 single lookups p50/p99; the advised worker's p50 against the other's is the ratio printed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from stanch.index import HammingIndex, index_segment
from stanch.matching.snapshot import SnapshotDir, SnapshotKey


def rollup(pid: int) -> dict[str, int]:
    """Pss and Private_* lines of smaps_rollup, in MiB (``measure`` adds ``first``: seconds of the first
    lookups)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name.strip()] = int(rest.split()[0]) // 1024
    return values


def worker(root: str, ready: Any, done: Any, advise: bool = True) -> None:  # a spawn Queue and Event
    from stanch.matching import snapshot as snapshot_module

    snapshot_module.ADVISE_HUGE_PAGES = advise
    started = time.perf_counter()
    snapshot = SnapshotDir(Path(root), "bench").read()
    assert snapshot is not None
    index = HammingIndex.from_segment(snapshot.bases[1])
    base = index.base
    rng = np.random.default_rng(os.getpid())
    first = time.perf_counter()
    index.search_many(rng.integers(0, 256, (2000, 32), dtype=np.uint8))  # pages come in at random
    first = time.perf_counter() - first
    arrays = [base.ids, base.words] + ([base.table.offsets, base.table.rows] if base.table else [])
    for array in arrays:  # touch every page, as lookups over the whole bank eventually do
        flat = array.reshape(-1).view(np.uint8)
        int(flat[::4096].sum())
    seconds = time.perf_counter() - started
    times = []
    for query in rng.integers(0, 256, (LOOKUPS, 32), dtype=np.uint8):
        begun = time.perf_counter()
        index.search(query.tobytes())
        times.append(time.perf_counter() - begun)
    ready.put((os.getpid(), seconds, np.percentile(times, [50, 99]) * 1e3, first))
    done.wait()


LOOKUPS = 1000
"""Single lookups each worker times once every page is read (random misses: a miss compares as many
hashes as a hit, and most lookups of a platform's uploads are misses)."""


def measure(root: str, count: int,
            advise: bool = True) -> list[tuple[int, float, np.ndarray, dict[str, float]]]:
    context = multiprocessing.get_context("spawn")
    ready, done = context.Queue(), context.Event()
    processes = [context.Process(target=worker, args=(root, ready, done, advise)) for _ in range(count)]
    for process in processes:
        process.start()
    answers = [ready.get(timeout=600) for _ in processes]
    figures = [(pid, seconds, tail, {**rollup(pid), "first": first}) for pid, seconds, tail, first in answers]
    done.set()
    for process in processes:
        process.join()
    return figures


def drop_cache(root: str) -> None:
    """Drop the snapshot files' pages from the page cache (written back first), as after a reboot."""
    os.sync()
    for path in Path(root).rglob("*.npy"):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def huge_pages(root: str) -> None:
    """``--huge-pages`` (module docstring)."""
    medians = {}
    for advise in (False, True):
        drop_cache(root)
        [(_pid, seconds, (p50, p99), memory)] = measure(root, 1, advise)
        label = "advised MADV_HUGEPAGE" if advise else "not advised"
        print(f"[{label}] cold start, 2,000 lookups at random {memory['first']:.1f} s; mapped and every "
              f"page read in {seconds:.1f} s; {memory.get('FilePmdMapped', 0):,} of {memory['Rss']:,} MiB "
              f"resident in huge pages; then {LOOKUPS:,} single lookups p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        medians[advise] = p50
    print(f"advised p50 against not advised: {medians[False] / medians[True]:.2f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=10_000_000)
    parser.add_argument("--huge-pages", action="store_true", help="cold starts without and with the advice")
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rng = np.random.default_rng(16)
    hashes = rng.integers(0, 256, (options.hashes, 32), dtype=np.uint8)
    with tempfile.TemporaryDirectory(prefix="stanch-snapshot-memory-") as root:
        started = time.perf_counter()
        segment = index_segment(np.arange(options.hashes, dtype=np.int64), hashes)
        del hashes
        SnapshotDir(Path(root), "bench").write(SnapshotKey("bench", 0, None), {1: segment})
        files = sum(path.stat().st_size for path in Path(root).rglob("*.npy")) / 2**20
        print(
            f"built and wrote {options.hashes:,} hashes in {time.perf_counter() - started:.1f} s: "
            f"{files:,.0f} MiB of files"
        )
        del segment
        if options.huge_pages:
            huge_pages(root)
            return
        totals = {}
        for count in (1, 2):
            figures = measure(root, count)
            for pid, seconds, (p50, p99), memory in figures:
                print(
                    f"[{count} worker(s)] pid {pid}: mapped, every page read and 200 lookups in "
                    f"{seconds:.1f} s; PSS {memory['Pss']:,} MiB, "
                    f"USS {memory['Private_Clean'] + memory['Private_Dirty']:,} MiB; "
                    f"then {LOOKUPS:,} single lookups p50 {p50:.3f} ms, p99 {p99:.3f} ms"
                )
            totals[count] = sum(memory["Pss"] for _, _, _, memory in figures)
            print(f"[{count} worker(s)] total PSS {totals[count]:,} MiB")
        print(f"two workers hold {totals[2] / totals[1]:.2f}x one worker's memory (target <= 1.3x)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
