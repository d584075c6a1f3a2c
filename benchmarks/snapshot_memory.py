"""Memory of N processes sharing one index snapshot: PSS and USS from /proc/<pid>/smaps_rollup.

Builds one base segment of N random hashes (default 10M), writes it as an index snapshot
(``stanch.matching.snapshot.SnapshotDir``, the files ``stanch serve --workers`` maps), then starts one
and then two worker processes that each map it read-only (``HammingIndex.from_segment``), read every
page of it (as a server does once its lookups have reached the whole bank) and answer lookups. Prints
the map-and-first-lookup time, each worker's PSS and USS, the p50 and p99 of 1,000 single lookups
once every page is read, and the two workers' total PSS against one
worker's (target: at most 1.3x). No database and no HTTP: this measures the sharing itself.

    python benchmarks/snapshot_memory.py [--hashes 10000000]
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
    """Pss and Private_* lines of smaps_rollup, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name.strip()] = int(rest.split()[0]) // 1024
    return values


def worker(root: str, ready: Any, done: Any) -> None:  # a spawn context's Queue and Event
    started = time.perf_counter()
    snapshot = SnapshotDir(Path(root), "bench").read()
    assert snapshot is not None
    index = HammingIndex.from_segment(snapshot.bases[1])
    base = index.base
    arrays = [base.ids, base.words] + ([base.table.offsets, base.table.rows] if base.table else [])
    for array in arrays:  # touch every page, as lookups over the whole bank eventually do
        flat = array.reshape(-1).view(np.uint8)
        int(flat[::4096].sum())
    rng = np.random.default_rng(os.getpid())
    index.search_many(rng.integers(0, 256, (200, 32), dtype=np.uint8))
    seconds = time.perf_counter() - started
    times = []
    for query in rng.integers(0, 256, (LOOKUPS, 32), dtype=np.uint8):
        begun = time.perf_counter()
        index.search(query.tobytes())
        times.append(time.perf_counter() - begun)
    ready.put((os.getpid(), seconds, np.percentile(times, [50, 99]) * 1e3))
    done.wait()


LOOKUPS = 1000
"""Single lookups each worker times once every page is read (random misses: a miss compares as many
hashes as a hit, and most lookups of a platform's uploads are misses)."""


def measure(root: str, count: int) -> list[tuple[int, float, np.ndarray, dict[str, int]]]:
    context = multiprocessing.get_context("spawn")
    ready, done = context.Queue(), context.Event()
    processes = [context.Process(target=worker, args=(root, ready, done)) for _ in range(count)]
    for process in processes:
        process.start()
    answers = [ready.get(timeout=600) for _ in processes]
    figures = [(pid, seconds, tail, rollup(pid)) for pid, seconds, tail in answers]
    done.set()
    for process in processes:
        process.join()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=10_000_000)
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
