"""vPDQ of Meta's sample videos against the hashes Meta's ``vpdq`` computed (its regression rule:
every frame within 31 bits, frames of quality below 50 skipped).

Decoding dominates the cost and every frame must be decoded whatever the sampling, so the short
videos are checked frame by frame (dense) and the others at one frame a second, each sampled frame
against Meta's hash of the frame shown at the same time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stanch.signals import VideoSignals, hash_media
from stanch.signals.pdq import MATCH_DISTANCE, MIN_QUALITY, hamming_hex

DENSE = {"doorknob-hd-no-bar", "test-padded-dimensions", "pattern-sd-grey-bar"}
VIDEOS = sorted(DENSE | {
    "chair-19-sd-bar", "chair-20-sd-bar", "chair-22-sd-grey-bar", "chair-22-sd-sepia-bar",
    "chair-22-with-large-logo-bar", "chair-22-with-small-logo-bar", "chair-orig-22-sd-bar",
    "pattern-hd-no-bar", "pattern-longer-no-bar", "pattern-sd-with-large-logo-bar",
    "pattern-sd-with-small-logo-bar",
})


def _meta_hashes(conformance: Path, name: str) -> dict[float, tuple[int, str]]:
    """Meta's frame hashes by timestamp: ``frame,quality,pdqHex,timestampSec`` per line."""
    rows = {}
    for line in (conformance / "vpdq" / "sample-hashes" / f"{name}.txt").read_text().splitlines():
        _, quality, pdq, ts = line.split(",")
        rows[round(float(ts), 3)] = (int(quality), pdq)
    return rows


def _meta_md5(conformance: Path) -> dict[str, str]:
    """MD5s of sample videos listed in PDQMD5TestData.csv, by video name."""
    with (conformance / "pdq" / "PDQMD5TestData.csv").open() as table:
        return {Path(row["FilePath"]).stem: row["Hash"] for row in csv.DictReader(table)
                if row["FilePath"].endswith(".mp4")}


def test_every_sample_video_is_covered(conformance: Path) -> None:
    assert {p.stem for p in (conformance / "vpdq" / "sample-videos").glob("*.mp4")} == set(VIDEOS)
    assert _meta_md5(conformance)["chair-19-sd-bar"] == "0a21c8f85a55a9e276ffc2c53f6887c4"


@pytest.mark.parametrize("name", VIDEOS)
def test_frames_within_match_distance_of_meta_vpdq(conformance: Path, name: str) -> None:
    expected = _meta_hashes(conformance, name)
    dense = name in DENSE
    data = (conformance / "vpdq" / "sample-videos" / f"{name}.mp4").read_bytes()
    signals = hash_media(data, seconds_per_hash=0.0 if dense else 1.0)
    assert isinstance(signals, VideoSignals)
    if dense:
        assert len(signals.frames) == len(expected)
    else:
        assert len(signals.frames) == pytest.approx(signals.duration, abs=1.01)
    assert [f.ts for f in signals.frames] == sorted(f.ts for f in signals.frames)
    if name in _meta_md5(conformance):
        assert signals.md5 == _meta_md5(conformance)[name]
    compared = 0
    for frame in signals.frames:
        quality, pdq = expected[frame.ts]
        if quality < MIN_QUALITY:
            continue
        assert hamming_hex(frame.pdq, pdq) <= MATCH_DISTANCE, (name, frame.ts)
        compared += 1
    assert compared >= len(signals.frames) // 2
