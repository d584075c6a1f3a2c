"""Stanch's image hashes against Meta's reference values (PDQ's interoperability rule: within 10 bits
of the C++ reference on images of quality >= 80), through the fast path ``hash_media`` really takes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from stanch.signals import ImageSignals, hash_media
from stanch.signals.pdq import MIN_QUALITY, hamming_hex
from stanch.signals.types import MediaSignals

TOLERANCE = 10
"""Meta: an implementation must be within 10 bits of the C++ reference on images of quality >= 80."""


def _expected(conformance: Path) -> list[dict]:
    with (conformance / "pdq" / "expected-pdqhash.jsonl").open() as lines:
        return [json.loads(line) for line in lines]


def _hash_image(path: Path) -> ImageSignals:
    signals: MediaSignals = hash_media(path.read_bytes())
    assert isinstance(signals, ImageSignals)
    return signals


def test_every_good_image_and_its_dihedral_hashes_are_within_tolerance(conformance: Path) -> None:
    checked = 0
    for expected in _expected(conformance):
        if expected["quality"] < 80 or "exif-rotn" in expected["path"]:
            continue
        ours = _hash_image(conformance / expected["path"])
        assert ours.quality >= 80, expected["path"]
        pairs = zip(ours.pdq_dihedral, expected["pdq_dihedral"], strict=True)
        distances = [hamming_hex(a, b) for a, b in pairs]
        assert max(distances) <= TOLERANCE, (expected["path"], distances)
        assert ours.pdq == ours.pdq_dihedral[0]
        checked += 1
    assert checked >= 45


def test_exif_orientation_is_honoured(conformance: Path) -> None:
    """The reference hashed the stored pixels; Stanch hashes the picture upright, as people see it.

    So an upright photo (orientation 1) matches the reference directly, and a rotated one matches it
    only through the dihedral hash that undoes the rotation.
    """
    expected = {Path(e["path"]).name: e["pdq"] for e in _expected(conformance) if "exif-rotn" in e["path"]}
    folder = conformance / "pdq" / "reg-test-input" / "exif-rotn"
    upright = _hash_image(folder / "exif-rotn-1.jpg")
    assert hamming_hex(upright.pdq, expected["exif-rotn-1.jpg"]) <= TOLERANCE
    for name in ("exif-rotn-3.jpg", "exif-rotn-6.jpg", "exif-rotn-8.jpg"):
        ours = _hash_image(folder / name)
        assert hamming_hex(ours.pdq, expected[name]) > 31, f"{name} was hashed as stored, not upright"
        assert min(hamming_hex(h, expected[name]) for h in ours.pdq_dihedral) <= TOLERANCE, name


def test_flat_images_report_untrustworthy_quality(conformance: Path) -> None:
    for expected in _expected(conformance):
        if expected["quality"] < MIN_QUALITY:
            assert _hash_image(conformance / expected["path"]).quality < MIN_QUALITY, expected["path"]


def test_python_threatexchange_expectations(conformance: Path) -> None:
    """pytx asserts these exact values. PNGs decode exactly as pytx does, so they match bit for bit;
    JPEGs are decoded as luma (faster), which moves ``rgb.jpeg`` by 2 bits: within Meta's tolerance."""
    folder = conformance / "pdq" / "pytx-resources"
    expected = json.loads((folder / "expected-pytx.json").read_text())
    for name in ("LA.png", "I16.png"):
        ours = _hash_image(folder / name)
        assert (ours.pdq, ours.quality) == (expected[name]["pdq"], expected[name]["quality"]), name
    # I16.png is 16-bit grey; converted to RGB as pytx does, it clips to a nearly flat picture, hence
    # quality 36: below MIN_QUALITY, so Stanch does not trust it alone.
    assert expected["I16.png"]["quality"] < MIN_QUALITY
    ours = _hash_image(folder / "rgb.jpeg")
    assert ours.quality == expected["rgb.jpeg"]["quality"]
    assert hamming_hex(ours.pdq, expected["rgb.jpeg"]["pdq"]) <= TOLERANCE


def _meta_csv(conformance: Path) -> list[tuple[Path, str]]:
    """Rows of PDQMD5TestData.csv, with paths from Meta's repository mapped onto the conformance folder."""
    rows = []
    with (conformance / "pdq" / "PDQMD5TestData.csv").open() as table:
        for row in csv.DictReader(table):
            path = row["FilePath"]
            if "/data/" in path:
                rows.append((conformance / "pdq" / path.split("/data/", 1)[1], row["Hash"]))
            else:
                rows.append((conformance / "vpdq" / "sample-videos" / Path(path).name, row["Hash"]))
    return rows


def test_meta_cpp_pdq_values(conformance: Path) -> None:
    checked = 0
    for path, expected in _meta_csv(conformance):
        if path.suffix == ".mp4" or not path.exists():  # b.jpg is not distributed
            continue
        ours = _hash_image(path)
        assert hamming_hex(ours.pdq, expected) <= TOLERANCE, path.name
        checked += 1
    assert checked == 15


@pytest.mark.parametrize("mode_file", ["1.png", "CMYK.jpg", "F.webp", "HSV.webp", "I.webp", "L.png", "LA.png",
                                       "LAB.webp", "P.png", "PA.webp", "RGB.jpg", "RGBA.png", "YCbCr.jpg"])
def test_every_pillow_mode_hashes_like_the_original(conformance: Path, mode_file: str) -> None:
    folder = conformance / "pdq" / "misc-images" / "modes"
    original = _hash_image(folder / "original.jpg")
    ours = _hash_image(folder / mode_file)
    assert ours.quality >= 80
    assert hamming_hex(ours.pdq, original.pdq) <= 31
