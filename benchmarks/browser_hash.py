"""How close are hashes computed in the browser (stanch-hash.js in Chromium) to Meta's reference?

For every image of the conformance set, headless Chromium decodes the file with its own decoders and
hashes it with stanch-hash.js; the reference is pdqhash (Meta's C++) on Pillow's decode, with the EXIF
orientation applied (expected-pdqhash.jsonl has the same hashes for files stored upright), and
`stanch hash` (stanch.signals.hash_media, what banks are filled with). Prints, per
image, the distance of the plain hash and the largest distance among the 8 dihedral hashes; the same
with pictures scaled down to 1 megapixel before hashing (the effect of MAX_DECODE_PIXELS on big
photos); then max and median per group, and the time per megapixel against pdqhash measured in the
same run. Last, each sample video through hashVideo (one frame a second): the distance of each frame
of quality >= 50 to Meta's vpdq hash of the frame at the same time. And how long the page's own
thread is blocked while a 12-megapixel photo is hashed, in the Web Worker and without it.

    python benchmarks/browser_hash.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "web"))

from browser_harness import BrowserSession, browser_session, pillow_reference  # noqa: E402
from PIL import Image  # noqa: E402

from stanch.signals import ImageSignals, hash_media  # noqa: E402
from stanch.signals.pdq import hamming_hex  # noqa: E402

REDUCED_PIXELS = 1_000_000
STALL_IMAGE = "pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg"


def group_of(path: str, orientation: int) -> str:
    if orientation != 1:
        return "EXIF-rotated"
    if "/modes/" in path:
        return "colour modes"
    return "other"


def measure(session: BrowserSession, conformance: Path, path: str) -> dict[str, object]:
    file = conformance / path
    started = time.perf_counter()
    reference = pillow_reference(file)
    reference_seconds = time.perf_counter() - started
    started = time.perf_counter()
    browser = session.hash_image(f"/conformance/{path}")
    browser_seconds = time.perf_counter() - started
    reduced = session.hash_image(f"/conformance/{path}", maxPixels=REDUCED_PIXELS)
    server = hash_media(file.read_bytes())
    assert isinstance(server, ImageSignals)
    with Image.open(file) as image:
        width, height = image.size
        mode = image.mode
    return {
        "path": path,
        "mode": mode,
        "megapixels": width * height / 1e6,
        "group": group_of(path, reference.orientation),
        "quality": (browser["quality"], reference.quality),
        "plain": hamming_hex(browser["pdq"], reference.pdq_dihedral[0]),
        "dihedral": max(map(hamming_hex, browser["pdq_dihedral"], reference.pdq_dihedral)),
        "reduced": hamming_hex(reduced["pdq"], reference.pdq_dihedral[0]),
        "server": hamming_hex(browser["pdq"], server.pdq),
        "browser_seconds": browser_seconds,
        "reference_seconds": reference_seconds,
    }


def summary(label: str, rows: list[dict[str, object]]) -> str:
    if not rows:
        return f"{label:<28} (none)"
    parts = []
    for key in ("plain", "dihedral", "reduced", "server"):
        values = [int(row[key]) for row in rows]  # type: ignore[call-overload]
        parts.append(f"{key} max {max(values):>3} median {statistics.median(values):>5.1f}")
    return f"{label:<28} n={len(rows):<3} " + "  ".join(parts)


def video_distances(session: BrowserSession, conformance: Path) -> list[tuple[str, list[int]]]:
    """Per sample video, the frame distances to vpdq's reference at the same timestamps."""
    rows = []
    for video in sorted((conformance / "vpdq" / "sample-videos").glob("*.mp4")):
        reference = {}
        for line in (conformance / "vpdq" / "sample-hashes" / f"{video.stem}.txt").read_text().splitlines():
            _, quality, pdq, ts = line.split(",")
            reference[round(float(ts), 3)] = (pdq, int(quality))
        result = session.hash_video(f"/conformance/vpdq/sample-videos/{video.name}")
        distances = []
        for frame in result["vpdq"]:
            nearest = min(reference, key=lambda ts: abs(ts - frame["ts"]))
            pdq, quality = reference[nearest]
            if quality >= 50 and frame["quality"] >= 50:
                distances.append(hamming_hex(frame["pdq"], pdq))
        rows.append((video.name, distances))
    return rows


STALL_PROBE = """async ([url, inWorker]) => {
    const blob = await (await fetch(url)).blob();
    let last = performance.now();
    let longest = 0;
    let running = true;
    const tick = () => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
        if (running) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const started = performance.now();
    if (inWorker) await window.stanch.hashImage(blob);
    else await window.stanch.hashImageInThisThread(blob);
    running = false;
    return [longest, performance.now() - started];
}"""


def page_stalls(session: BrowserSession, path: str) -> dict[str, tuple[float, float]]:
    """Longest pause of the page's event loop (ms) and total time (ms), hashing in the worker or not."""
    url = f"/conformance/{path}"
    return {
        where: tuple(session.page.evaluate(STALL_PROBE, [url, where == "worker"]))
        for where in ("worker", "page thread")
    }


def main() -> None:
    conformance = Path(REPO.parent / "shared" / "conformance")
    expected = [json.loads(line) for line in (conformance / "pdq" / "expected-pdqhash.jsonl").open()]
    with tempfile.TemporaryDirectory() as media, browser_session(conformance, Path(media)) as session:
        rows = [measure(session, conformance, entry["path"]) for entry in expected]
        videos = video_distances(session, conformance)
        stalls = page_stalls(session, STALL_IMAGE)
    print(
        f"{'image':<48} {'mode':<5} {'MP':>5} {'quality b/ref':>13} {'plain':>5} {'dih max':>7} "
        f"{'1MP':>4} {'server':>11}"
    )
    for row in rows:
        quality = "{}/{}".format(*row["quality"])  # type: ignore[misc]
        print(
            f"{row['path']:<48} {row['mode']:<5} {row['megapixels']:>5.2f} {quality:>13} "
            f"{row['plain']:>5} {row['dihedral']:>7} {row['reduced']:>4} {row['server']:>11}"
        )
    good = [row for row in rows if min(row["quality"]) >= 80]  # type: ignore[call-overload]
    print()
    print("distances in bits of 256, images whose quality is >= 80 in both (1MP = scaled to 1 megapixel")
    print("first; server = browser's PDQ against `stanch hash`, which is what banks hold):")
    print(summary("all", good))
    for group in ("other", "EXIF-rotated", "colour modes"):
        print(summary(group, [row for row in good if row["group"] == group]))
    megapixels = sum(float(row["megapixels"]) for row in rows)  # type: ignore[arg-type]
    browser = sum(float(row["browser_seconds"]) for row in rows)  # type: ignore[arg-type]
    reference = sum(float(row["reference_seconds"]) for row in rows)  # type: ignore[arg-type]
    print(
        f"\ntime for {megapixels:.1f} megapixels: browser (decode + MD5 + SHA-256 + PDQ) {browser:.2f} s, "
        f"Pillow + pdqhash (decode + PDQ) {reference:.2f} s, ratio {browser / reference:.2f}"
    )

    print("\nvideo frames (1 a second) against vpdq at the same time, frames of quality >= 50:")
    for name, distances in videos:
        if distances:
            print(
                f"{name:<40} frames {len(distances):>3}  max {max(distances):>3}  "
                f"median {statistics.median(distances):>5.1f}"
            )
    everything = [d for _, distances in videos for d in distances]
    print(
        f"{'all videos':<40} frames {len(everything):>3}  max {max(everything):>3}  "
        f"median {statistics.median(everything):>5.1f}"
    )

    print(f"\nresponsiveness, hashing {STALL_IMAGE} (12 megapixels):")
    for where, (longest, total) in stalls.items():
        print(
            f"  in the {where:<12} longest pause of the page {longest:>6.0f} ms (hashing took {total:.0f} ms)"
        )


if __name__ == "__main__":
    main()
