"""Recall of the edit suite when the originals are banked with the browser's hashes.

    python benchmarks/browser_robustness.py [--conformance DIR]

A person asking for removal hashes their pictures in the browser (``stanch-hash.js`` and
``robust.js``); those hashes become the bank. This measures what they catch, with the logic of
benchmarks/robustness.py: every banked picture (the conformance images and sample-video frames) is
decoded by Pillow with its EXIF orientation and hashed by the browser's code under Node
(tests/web/hash_pixels.mjs), once with its bank views and once with the plain and dihedral hashes
only; the edited copies are hashed by the server for a query (``hash_media``). The server's own bank
hashes (``hash_media(purpose="bank")``) are the baseline. Needs ``node`` (18 or later).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import robustness
from benchmarks.edits import EDITS, edited_bytes
from stanch.signals.pdq import MATCH_DISTANCE, MIN_QUALITY
from stanch.signals.robust import bank_hashes, query_hashes
from stanch.signals.types import ImageSignals, PdqVariant

HARNESS = Path(__file__).resolve().parent.parent / "tests" / "web" / "hash_pixels.mjs"


def browser_hashes(pictures: list[robustness.Picture], folder: Path) -> list[dict]:
    """The browser code's hashes (with its bank views) of each picture's upright RGB pixels."""
    jobs = []
    for number, picture in enumerate(pictures):
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(picture.data))).convert("RGB"))
        path = folder / f"{number}.rgb"
        np.ascontiguousarray(rgb).tofile(path)
        jobs.append({"id": str(number), "pixels": str(path), "width": rgb.shape[1], "height": rgb.shape[0],
                     "channels": 3, "views": True})
    done = subprocess.run(["node", str(HARNESS)], input=json.dumps(jobs), capture_output=True, text=True,
                          check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def as_signals(result: dict, views: bool) -> ImageSignals:
    """A browser result as the signals a bank entry holds (digests are not compared here)."""
    variants = tuple(PdqVariant(v["name"], v["pdq"], v["quality"]) for v in result["pdq_variants"])
    return ImageSignals(md5="0" * 32, sha256="0" * 64, pdq=result["pdq"], quality=result["quality"],
                        pdq_dihedral=tuple(result["pdq_dihedral"]), variants=variants if views else ())


def upload_of(photo: robustness.Picture, edit: str) -> ImageSignals:
    """An edited copy of ``photo`` as the server hashes an upload."""
    return robustness.signals_of(edited_bytes(robustness.pixels(photo.data), edit, photo.name), "query")


def measure(banked: list[tuple[robustness.Picture, ImageSignals]], photos: list[robustness.Picture],
            uploads: dict[tuple[str, str], ImageSignals]) -> tuple[list[int], int, int]:
    """Copies found per edit, false matches, and the closest distance to a picture of other content."""
    own = {picture.name: signals for picture, signals in banked}
    found, false, closest = [], 0, 256
    for edit in EDITS:
        hits = 0
        for photo in photos:
            upload = query_hashes(uploads[edit, photo.name])
            hits += robustness.distance(upload, bank_hashes(own[photo.name])) <= MATCH_DISTANCE
            for other, signals in banked:
                if other.content != photo.content:
                    distance = robustness.distance(upload, bank_hashes(signals))
                    false += distance <= MATCH_DISTANCE
                    closest = min(closest, distance)
        found.append(hits)
    return found, false, closest


def main() -> None:
    root = robustness.conformance_root(__doc__.splitlines()[0])
    started = time.perf_counter()
    pictures = robustness.bank(root) + robustness.originals(root)
    with tempfile.TemporaryDirectory() as folder:
        results = browser_hashes(pictures, Path(folder))
    server = [robustness.signals_of(picture.data, "bank") for picture in pictures]
    originals = len(robustness.PHOTOS) + len(robustness.PHOTO_FRAMES)
    photos = [picture for picture, signals in zip(pictures[-originals:], server[-originals:], strict=True)
              if signals.quality >= MIN_QUALITY]
    uploads = {(edit, photo.name): upload_of(photo, edit) for edit in EDITS for photo in photos}
    pairs = list(zip(pictures, results, strict=True))
    banks = {
        "browser, plain + dihedral": [(picture, as_signals(result, False)) for picture, result in pairs],
        "browser, with its views": [(picture, as_signals(result, True)) for picture, result in pairs],
        "server (--for bank)": list(zip(pictures, server, strict=True)),
    }
    print(f"{len(photos)} originals, {len(EDITS)} edits, {len(uploads)} copies, {len(pictures)} banked")
    columns = {name: measure(banked, photos, uploads) for name, banked in banks.items()}
    rows = [("edit", list(columns))]
    for n, edit in enumerate(EDITS):
        rows.append((edit, [f"{found[n]}/{len(photos)}" for found, _, _ in columns.values()]))
    rows.append(("recall", [f"{sum(found)}/{len(uploads)} = {sum(found) / len(uploads):.3f}"
                            for found, _, _ in columns.values()]))
    rows.append(("false matches", [str(false) for _, false, _ in columns.values()]))
    rows.append(("closest other", [f"{closest} bits" for _, _, closest in columns.values()]))
    for label, cells in rows:
        print(label.ljust(14) + "".join(cell.rjust(28) for cell in cells))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
