"""Sweep throughput: ``stanch sweep``'s local pool against one-process ``stanch hash``, same files, same run.

    python benchmarks/sweep.py [--conformance DIR] [--count 300] [--workers 2] [--rounds 2]

A catalog of ``--count`` JPEGs is generated from the conformance photos with Pillow edits (resizes,
crops, rotations, re-encodes, brightness and contrast, greyscale, borders), largest side at most 1280
pixels. The bank holds the originals of three photos, so the sweep matches and reports as it would
for real. Figures, each the best of ``--rounds`` passes on this machine (the three contenders take
turns, pass by pass):

- baseline: ``hash_files`` with one worker, exactly what ``stanch hash`` does (read, hash, no matching);
- sweep: a whole ``SweepRun`` (list, load the index, hash in ``--workers`` processes, match in the
  parent, commit every window to SQLite, print nothing) on a fresh database each pass, and the same with
  one worker. Each pass's database (migrated, the bank filled) is made before its timer starts: that is
  setup, not sweeping.

Goal (issue 6): on 2 cores, the sweep with 2 workers does at least 1.6x the baseline's files per second.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stanch.cli.hash import hash_files
from stanch.files import media_files
from stanch.signals import hash_media, signals_from_record, signals_record
from stanch.store import add_entry, create_bank, entry_from_signals, open_database
from stanch.sweep import HashSettings, LocalPool, SweepRun

PHOTOS = [
    "pdq/bridge-mods/aaa-orig.jpg",
    "pdq/misc-images/c.png",
    "pdq/reg-test-input/pen-and-coaster.png",
    "pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg",
    "pdq/pytx-resources/letterboxed_sample-b.jpg",
    "pdq/reg-test-input/labelme-subset/q0122.jpg",
    "pdq/reg-test-input/labelme-subset/q0291.jpg",
    "pdq/reg-test-input/labelme-subset/q0746.jpg",
    "pdq/reg-test-input/labelme-subset/q1050.jpg",
    "pdq/reg-test-input/labelme-subset/q2821.jpg",
    "pdq/pytx-resources/rgb.jpeg",
]
BANKED = PHOTOS[:3]
MAX_SIDE = 1280

Edit = Callable[[Image.Image], Image.Image]
EDITS: list[Edit] = [
    lambda im: im,
    lambda im: im.resize((im.width // 2, im.height // 2)),
    lambda im: im.resize((im.width * 3 // 4, im.height * 3 // 4)),
    lambda im: im.crop((im.width // 20, im.height // 20, im.width * 19 // 20, im.height * 19 // 20)),
    lambda im: im.crop((0, 0, im.width * 9 // 10, im.height)),
    lambda im: im.rotate(90, expand=True),
    lambda im: im.rotate(180),
    lambda im: ImageOps.mirror(im),
    lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    lambda im: ImageEnhance.Brightness(im).enhance(0.7),
    lambda im: ImageEnhance.Contrast(im).enhance(1.5),
    lambda im: ImageOps.grayscale(im).convert("RGB"),
    lambda im: ImageOps.expand(im, border=im.width // 16, fill=(0, 0, 0)),
    lambda im: im.rotate(3, expand=False),
]
QUALITIES = [95, 80, 60]
T = TypeVar("T")


def make_catalog(conformance: Path, folder: Path, count: int) -> None:
    """``count`` JPEGs: every photo under every edit and quality, in turn, until there are enough."""
    photos = []
    for name in PHOTOS:
        image = ImageOps.exif_transpose(Image.open(conformance / name)).convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        photos.append(image)
    folder.mkdir(parents=True)
    made = 0
    while made < count:
        round_, rest = divmod(made, len(photos) * len(EDITS))
        edit, photo = divmod(rest, len(photos))
        edited = EDITS[edit](photos[photo])
        if round_:
            edited = edited.resize((max(16, edited.width - 7 * round_), max(16, edited.height - 5 * round_)))
        edited.save(folder / f"{made:05d}.jpg", "JPEG", quality=QUALITIES[(made // len(photos)) % 3])
        made += 1


def bank(db_url: str, conformance: Path) -> None:
    db = open_database(db_url)
    with db.write() as session:
        target = create_bank(session, "bench")
        for name in BANKED:
            record = signals_record(hash_media((conformance / name).read_bytes(), purpose="bank"))
            add_entry(session, target, entry_from_signals(signals_from_record(record)))
    db.dispose()


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the pool's workers, once joined)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Best:
    """One contender's shortest wall time so far, the CPU time of that pass, and what it returned."""

    wall: float = float("inf")
    cpu: float = 0.0
    result: int = 0

    def time(self, run: Callable[[T], int], ready: T) -> None:
        """Time one pass of ``run`` on ``ready`` (made before the timer starts)."""
        start, cpu = time.perf_counter(), cpu_seconds()
        self.result = run(ready)
        wall = time.perf_counter() - start
        if wall < self.wall:
            self.wall, self.cpu = wall, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conformance", type=Path, default=Path(__file__).resolve().parents[2] / "shared"
                        / "conformance")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "catalog"
        make_catalog(args.conformance, folder, args.count)
        files = media_files([folder])
        passes = iter(range(1_000))

        def baseline(_: None) -> int:
            return sum("error" not in line for line in hash_files(files, workers=1))

        def fresh_database() -> str:
            url = f"sqlite:///{temp}/sweep-{next(passes)}.db"
            bank(url, args.conformance)
            return url

        def sweep(workers: int) -> Callable[[str], int]:
            def run(url: str) -> int:
                db = open_database(url)
                swept = SweepRun(db, folder, LocalPool(HashSettings(), workers))
                matched = sum(1 for line in swept.lines() if line.get("matched"))
                db.dispose()
                return matched

            return run

        load = os.getloadavg()[0]
        base, one, pool = Best(), Best(), Best()
        for _ in range(args.rounds):  # interleaved: a change in the machine's load falls on all three
            base.time(baseline, None)
            one.time(sweep(1), fresh_database())
            pool.time(sweep(args.workers), fresh_database())
    count = len(files)
    base_rate, one_rate, pool_rate = (count / b.wall for b in (base, one, pool))
    print(f"catalog: {count} JPEGs ({base.result} hashed), {pool.result} matched the {len(BANKED)} banked "
          f"photos; {os.cpu_count()} cores, load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"stanch hash, 1 process:   {base_rate:6.1f} files/s  {1000 * base.cpu / count:5.1f} ms CPU a file")
    print(f"stanch sweep, 1 worker:   {one_rate:6.1f} files/s  {1000 * one.cpu / count:5.1f} ms CPU a file  "
          f"({one_rate / base_rate:.2f}x)")
    print(f"stanch sweep, {args.workers} workers:  {pool_rate:6.1f} files/s  "
          f"{1000 * pool.cpu / count:5.1f} ms CPU a file  "
          f"({pool_rate / base_rate:.2f}x; goal 1.6x on 2 otherwise idle cores)")


if __name__ == "__main__":
    main()
