"""Index shards on a local Ray runtime against one engine holding every bank, in the same run.

One SQLite database with one bank of N random PDQ hashes (the store's bulk import). The baseline is a
``MatchEngine`` in this process loaded by a ``BankFollower``; the sharded side is ``ShardedEngine``
with K shard actors on a Ray runtime started here. Printed: whether every verdict is equal (planted
near-duplicates at 1-31 bits and random misses), single lookups p50/p99 for both and the fan-out
overhead per lookup (sharded minus single, at the median), batched lookups per second (batches of 100),
and each shard's share of the hashes. On one machine both sides share the same two cores, so this
measures the cost of the fan-out, not the gain of more machines (docs/design/index.md says how to run it
on a cluster).

    python benchmarks/shards.py [--hashes 1000000] [--shards 2] [--lookups 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from http_match import planted

from stanch.exchange import import_lines
from stanch.matching.engine import MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.shards import ShardedEngine
from stanch.matching.sync import BankFollower
from stanch.store import create_bank, open_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(1616)
    bank = rng.integers(0, 256, (args.hashes, 32), dtype=np.uint8)
    misses = rng.integers(0, 256, (args.lookups, 32), np.uint8)
    rows = np.concatenate([planted(rng, bank, args.lookups), misses])
    queries = [hash_query(row.tobytes().hex()) for row in rows]
    print(f"{args.hashes:,} hashes, {args.shards} shards, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/stanch.db"
        build(url, bank, Path(folder))
        db = open_database(url)
        single = MatchEngine()
        BankFollower(db, single).load()
        import ray

        ray.init(include_dashboard=False, log_to_driver=False)
        started = time.perf_counter()
        sharded = ShardedEngine.start(url, args.shards)
        print(f"shards started and loaded in {time.perf_counter() - started:.1f} s")
        try:
            equal = [a.to_dict() for a in single.match_queries(queries)] == [
                b.to_dict() for b in sharded.match_queries(queries)
            ]
            one = times(single, queries)
            fanned = times(sharded, queries)
            batched_single, batched_sharded = batched(single, queries), batched(sharded, queries)
            stats = sharded.stats()
        finally:
            sharded.stop()
            ray.shutdown()
            db.dispose()
    found = sum(v.matched for v in single.match_queries(queries[: args.lookups]))
    print(f"same verdicts as one engine: {'yes' if equal else 'NO'} ({found}/{args.lookups} planted found)")
    report("one engine, in-process", one)
    report(f"{args.shards} shards on Ray", fanned)
    overhead = (np.median(fanned) - np.median(one)) * 1e3
    print(f"  fan-out overhead per lookup (median): {overhead:.2f} ms")
    print(f"batched lookups (100 a batch): one engine {batched_single:,.0f}/s, "
          f"{args.shards} shards {batched_sharded:,.0f}/s ({batched_sharded / batched_single:.2f}x)")
    print(f"hashes held by the shards: {stats['image_hashes']:,} in all")


def build(url: str, bank: np.ndarray, folder: Path) -> None:
    lines = folder / "hashes.txt"
    with lines.open("w") as out:
        out.writelines(row.tobytes().hex() + "\n" for row in bank)
    db = open_database(url)
    with db.write() as session, lines.open() as text:
        import_lines(session, create_bank(session, "bench"), text, source=lines.name, format="pdq")
    db.dispose()


def times(engine: MatchEngine | ShardedEngine, queries: list) -> np.ndarray:
    result = []
    for query in queries:
        started = time.perf_counter()
        engine.match_queries([query])
        result.append(time.perf_counter() - started)
    return np.array(result)


def batched(engine: MatchEngine | ShardedEngine, queries: list) -> float:
    started = time.perf_counter()
    for first in range(0, len(queries), 100):
        engine.match_queries(queries[first : first + 100])
    return len(queries) / (time.perf_counter() - started)


def report(label: str, seconds: np.ndarray) -> None:
    p50, p99 = np.percentile(seconds, 50) * 1e3, np.percentile(seconds, 99) * 1e3
    print(f"  {label:26s} single lookups p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
