"""The flood guard: how soon a flood of lookups hitting one entry switches it, and what counting costs.

A SQLite database with a bank of N entries (default 5,000) and a runtime as ``stanch serve`` builds
it (the change feed followed, match counts flushed every ``STANCH_FLOOD_FLUSH_SECONDS``, default
limits: more than 1,000 distinct uploads an hour switches an entry). Then, in one run:

1. normal lookups (random hashes and copies of other entries), alternating one counted lookup
   (``Stanch.lookup``: the engine plus the in-memory counter) with one uncounted
   (``MatchEngine.match_queries``: the baseline), single-hash lookups in-process;
2. a flood of 10,000 lookups (distinct near copies of one entry) at a steady --rate a second, the
   same alternating normal lookups between them; prints when the flooded entry's verdict turned
   ``review`` (seconds from the flood's start, and after how many flood lookups), and the normal
   lookups' latency with and without counting.

    nice python benchmarks/flood_guard.py [--entries 5000] [--rate 500] [--flush-seconds 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from stanch.desk.flood import FloodSettings
from stanch.matching.query import hash_query
from stanch.runtime import Settings, Stanch
from stanch.store import add_entries, create_bank, entry_from_hashes, open_database


def near(pdq: bytes, rng: np.random.Generator, bits: int = 6) -> str:
    value = bytearray(pdq)
    for bit in rng.choice(256, bits, replace=False):
        value[bit // 8] ^= 1 << (bit % 8)
    return bytes(value).hex()


def timed(call, query) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    call([query])
    return time.perf_counter() - start


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[int(len(ordered) * 0.99)]
    return f"{name}: median {statistics.median(ordered) * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=500.0, help="flood lookups a second")
    parser.add_argument("--flood", type=int, default=10_000)
    parser.add_argument("--flush-seconds", type=float, default=10.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    pdqs = rng.integers(0, 256, (args.entries, 32), dtype=np.uint8)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'flood.db'}")
        with db.write() as session:
            bank = create_bank(session, "ncii")
            add_entries(session, bank, [entry_from_hashes(pdq=p.tobytes().hex()) for p in pdqs])
        app = Stanch(db, Settings(flood=FloodSettings(flush_seconds=args.flush_seconds), dispatch=False,
                                  exchange_fetch=False))
        app.follower.load()
        app.follower.start()
        app.flusher.start()
        try:
            run(app, pdqs, rng, args)
        finally:
            app.stop()
            db.dispose()


def normal_query(pdqs: np.ndarray, rng: np.random.Generator, i: int):  # type: ignore[no-untyped-def]
    if i % 10 == 0:  # one lookup in ten is a copy of some banked entry
        return hash_query(near(pdqs[1 + i % (len(pdqs) - 1)].tobytes(), rng), 100)
    return hash_query(rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex(), 100)


def run(app: Stanch, pdqs: np.ndarray, rng: np.random.Generator, args: argparse.Namespace) -> None:
    counted, plain = [], []
    for i in range(4_000):
        counted.append(timed(app.lookup, normal_query(pdqs, rng, i)))
        plain.append(timed(app.engine.match_queries, normal_query(pdqs, rng, i)))
    print(f"bank: {len(pdqs):,} entries; flush every {args.flush_seconds:g} s; limit "
          f"{app.settings.flood.uploads:,} distinct uploads an hour")
    print("before the flood (in-process lookups, one hash each):")
    print("  " + summary("with the guard's counting", counted))
    print("  " + summary("without (baseline)        ", plain))
    target = pdqs[0].tobytes()
    counted, plain = [], []
    switched_at = switched_after = None
    start = time.perf_counter()
    for n in range(args.flood):
        due = start + n / args.rate
        while time.perf_counter() < due:
            counted.append(timed(app.lookup, normal_query(pdqs, rng, n)))
            plain.append(timed(app.engine.match_queries, normal_query(pdqs, rng, n)))
        verdict = app.lookup([hash_query(near(target, rng), 100)])[0]
        if switched_at is None and verdict.action == "review":
            switched_at, switched_after = time.perf_counter() - start, n
    while switched_at is None and time.perf_counter() - start < 120:
        time.sleep(0.05)
        if app.engine.match_queries([hash_query(near(target, rng), 100)])[0].action == "review":
            switched_at, switched_after = time.perf_counter() - start, args.flood
    print(f"flood: {args.flood:,} lookups hitting one entry at {args.rate:g}/s "
          f"({args.flood / args.rate:.0f} s)")
    if switched_at is None:
        print("  the entry was NOT switched within 120 s")
    else:
        print(f"  switched to review {switched_at:.1f} s after the flood began, after {switched_after:,} "
              f"flood lookups")
    print("normal lookups during the flood:")
    print("  " + summary("with the guard's counting", counted))
    print("  " + summary("without (baseline)        ", plain))
    ratio = statistics.median(counted) / statistics.median(plain)
    print(f"  median ratio with/without: {ratio:.2f}")


if __name__ == "__main__":
    main()
