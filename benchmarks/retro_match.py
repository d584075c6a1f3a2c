"""Retroactive matching: one new bank entry looked up in a large upload log, and the log's memory.

Builds the in-memory upload log (``stanch.sweep.retro.UploadLog``'s engine: a scanned ``MatchEngine``
index) holding N random PDQ hashes (default 10 million) plus a few near copies of a real picture
(a Debian wallpaper), then times ``UploadLog.search`` with the new entry's indexed hashes (its
dihedral views and robustness views, as a bank entry holds them) at the default threshold 31, and
prints bytes of index memory per logged upload. Baseline, same run: the same search with the index's
numpy scan (``SCAN_ROWS`` raised past N), as large scans ran before.

The log is filled in memory, not from the database: loading it from the table at start is a separate
cost (streamed in batches of 1,000,000 rows), not what the target is about.

    nice python benchmarks/retro_match.py [--uploads 10000000] [--picture PATH]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stanch.index import multi_index
from stanch.matching.engine import MatchEngine
from stanch.matching.verdict import BankRule
from stanch.signals import hash_media
from stanch.signals.registry import PdqSignal
from stanch.sweep.retro import LOG_BANK, SCAN_ALWAYS, UploadLog

PICTURE = Path("/usr/share/backgrounds/calla.png")


def near(pdq: bytes, rng: np.random.Generator, bits: int) -> bytes:
    value = bytearray(pdq)
    for bit in rng.choice(256, bits, replace=False):
        value[bit // 8] ^= 1 << (bit % 8)
    return bytes(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=10_000_000)
    parser.add_argument("--picture", type=Path, default=PICTURE)
    args = parser.parse_args()
    signals = hash_media(args.picture.read_bytes(), purpose="bank")
    hashes = tuple((view, h) for view, h, _, indexed in PdqSignal.index_rows(signals) if indexed)
    rng = np.random.default_rng(0)
    packed = rng.integers(0, 256, (args.uploads, 32), dtype=np.uint8)
    plain = bytes.fromhex(signals.pdq)
    planted = {7: 4, 1_000: 12, args.uploads - 1: 20}  # row -> bits away from the picture
    for row, bits in planted.items():
        packed[row] = np.frombuffer(near(plain, rng, bits), np.uint8)
    log = UploadLog.__new__(UploadLog)
    log.engine = MatchEngine(min_indexed_rows=SCAN_ALWAYS)
    log.engine.set_bank(BankRule(LOG_BANK, "upload-log", 31))
    start = time.perf_counter()
    log.engine.load_images(LOG_BANK, np.arange(1, args.uploads + 1, dtype=np.int64), packed)
    built = time.perf_counter() - start
    stats = log.engine.stats()
    timings, found = [], []
    for _ in range(3):
        start = time.perf_counter()
        found = log.search(hashes, 31)
        timings.append(time.perf_counter() - start)
    multi_index.SCAN_ROWS = args.uploads + 1  # the baseline: one pass over every row per query hash
    start = time.perf_counter()
    baseline = log.search(hashes, 31)
    one_pass = time.perf_counter() - start
    assert sorted(m.entry for m in baseline) == sorted(m.entry for m in found)
    print(f"upload log: {args.uploads:,} logged uploads; new entry: {len(hashes)} indexed hashes "
          f"({args.picture.name})")
    print(f"  memory: {stats['index_bytes'] / args.uploads:.1f} bytes per logged upload "
          f"({stats['index_bytes'] / 2**20:,.0f} MiB); loaded in {built:.2f} s")
    print(f"  search (C scan): best {min(timings):.3f} s, median {sorted(timings)[1]:.3f} s")
    print(f"  baseline (one-pass scan): {one_pass:.3f} s; ratio {one_pass / min(timings):.1f}x")
    print(f"  found: {sorted((m.entry - 1, m.distance) for m in found)} "
          f"(planted at rows {sorted(planted.items())})")


if __name__ == "__main__":
    main()
