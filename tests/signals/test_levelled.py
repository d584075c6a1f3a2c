"""Server-side robustness views (stanch.signals.levelled): slightly rotated copies, with black corners or
with the implied crop, and copies with a corner logo match their original under the one rule
(``query_hashes`` against ``bank_hashes``), where plain PDQ does not; different contents do not match;
entries banked before these views existed match at least what they matched before."""

from __future__ import annotations

import importlib.util
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stanch.signals import ImageSignals, hash_media, levelled, robust
from stanch.signals.fast_pdq import luma_of_rgb
from stanch.signals.levelled import SERVER_ONLY, TILTS, corner_angle, server_views
from stanch.signals.pdq import MATCH_DISTANCE, hamming_hex
from stanch.signals.robust import bank_hashes, query_hashes
from stanch.signals.types import Purpose
from tests.signals.media_factory import scene

_EDITS_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "edits.py"
_spec = importlib.util.spec_from_file_location("stanch_benchmark_edits", _EDITS_PATH)
assert _spec is not None and _spec.loader is not None
edits = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(edits)

EDITS = ("rotate +3 corners", "rotate +5 corners", "rotate +2 cropped", "rotate -5 cropped",
         "logo corner opaque 10%", "watermark corner")




def hashed(image: Image.Image, purpose: Purpose = "query") -> ImageSignals:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    signals = hash_media(buffer.getvalue(), purpose=purpose)
    assert isinstance(signals, ImageSignals)
    return signals


def upload(image: Image.Image, edit: str, seed: str = "test") -> ImageSignals:
    signals = hash_media(edits.suite_bytes(image, edit, seed))
    assert isinstance(signals, ImageSignals)
    return signals


def closest(query: ImageSignals, banked: ImageSignals) -> int:
    return min(hamming_hex(q, b) for q in query_hashes(query) for b in bank_hashes(banked))


def without_server_views(signals: ImageSignals) -> ImageSignals:
    """An entry as it was banked before this module: no levelled, part or tilted views."""
    return replace(signals, variants=tuple(v for v in signals.variants if not v.name.startswith(SERVER_ONLY)))


@pytest.fixture(scope="module")
def banked() -> dict[int, ImageSignals]:
    return {seed: hashed(scene(seed), "bank") for seed in range(4)}


@pytest.mark.parametrize("edit", EDITS)
def test_edited_copies_match_under_the_rule_where_plain_pdq_does_not(edit: str, banked) -> None:
    found = 0
    for seed, original in banked.items():
        copy = upload(scene(seed), edit)
        found += closest(copy, original) <= MATCH_DISTANCE
        if "logo" not in edit and "watermark" not in edit:
            assert hamming_hex(copy.pdq, original.pdq) > MATCH_DISTANCE  # the views are what matches
    assert found == len(banked), f"{edit}: {found} of {len(banked)} copies found"


@pytest.mark.parametrize("edit", EDITS)
def test_edited_copies_do_not_match_other_contents(edit: str, banked) -> None:
    for seed in banked:
        copy = upload(scene(seed), edit)
        for other, original in banked.items():
            if other != seed:
                assert closest(copy, original) > MATCH_DISTANCE + 10, (edit, seed, other)


def test_the_angle_of_a_copy_on_black_corners_is_read_off_its_edges() -> None:
    for degrees in (-5.6, -2.3, 1.2, 4.4):
        turned = scene(7).rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
        angle = corner_angle(luma_of_rgb(np.asarray(turned)))
        assert angle is not None and abs(angle + degrees) < 0.3, (degrees, angle)


def test_upright_letterboxed_and_dark_pictures_have_no_angle() -> None:
    picture = np.asarray(scene(8))
    letterboxed = np.zeros((640, 640, 3), np.uint8)
    letterboxed[80:560] = picture
    dark = np.zeros((300, 400, 3), np.uint8)
    dark[100:200, 50:350] = 200  # an upright bright bar on black: straight edges, but no tilt
    for rgb in (picture, letterboxed, dark):
        assert corner_angle(luma_of_rgb(rgb)) is None
        assert "levelled" not in {v.name for v in server_views(luma_of_rgb(rgb))}


def test_tilted_views_are_banked_and_never_looked_up() -> None:
    luma = luma_of_rgb(np.asarray(scene(9)))
    bank = {v.name for v in server_views(luma, "bank")}
    assert {f"tilted{d:+d}" for d in TILTS} <= bank and {"part1", "part4"} <= bank
    assert not any(v.name.startswith("tilted") for v in server_views(luma, "query"))
    signals = hashed(scene(9), "bank")
    tilted = {v.pdq for v in signals.variants if v.name.startswith("tilted")}
    assert tilted and tilted <= set(bank_hashes(signals)) and not tilted & set(query_hashes(signals))


def test_entries_banked_before_the_views_match_every_copy_they_matched_before(banked) -> None:
    """An upload's lookups only grew, so an old entry (no server views) is found at least as before."""
    for seed, original in banked.items():
        old_entry = without_server_views(original)
        for edit in ("caption top 16%", "letterbox", "mirror", "jpeg 30", "crop 10% one side", *EDITS):
            copy = upload(scene(seed), edit)
            before = min(hamming_hex(q, b) for q in query_hashes(without_server_views(copy))
                         for b in bank_hashes(old_entry))
            assert closest(copy, old_entry) <= before
            assert closest(copy, original) <= closest(copy, old_entry)


def test_purpose_is_checked() -> None:
    with pytest.raises(ValueError, match="purpose"):
        server_views(np.zeros((64, 64), np.float32), "archive")  # type: ignore[arg-type]


def test_views_of_a_uint8_plane_are_those_of_its_float32_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JPEG's luma is hashed as uint8 (``robust.view_plane``, ``_turned``) instead of a float32 copy:
    every view's hash and quality are those the float32 copy gave, for queries and banks, at full
    size and reduced (1600x1200), upright and turned on black corners (``levelled``)."""
    turned = scene(7).rotate(3.5, Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    pictures = [scene(3), turned, scene(5, 1200, 1600)]
    as_float = levelled._turned

    def float_plane(plane: np.ndarray) -> np.ndarray:
        return np.asarray(robust._reduce(plane), np.float32)

    for picture in pictures:
        luma = np.asarray(picture.convert("L"))
        for purpose in ("query", "bank"):
            ours = server_views(luma, purpose)
            with monkeypatch.context() as patched:  # what the float32 planes gave
                patched.setattr(levelled, "view_plane", float_plane)
                patched.setattr(levelled, "_turned", lambda *args: np.asarray(as_float(*args), np.float32))
                before = server_views(luma, purpose)
            assert ours == before
            assert ours
    assert any(view.name == "levelled" for view in server_views(np.asarray(turned.convert("L"))))


def test_frame_views_of_a_uint8_frame_are_those_of_its_float32_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from stanch.signals import frame_views as views
    from stanch.signals.fast_pdq import pdq_dihedral_of_luma

    letterboxed = np.zeros((720, 1280), np.uint8)
    letterboxed[90:630] = np.asarray(scene(4, 540, 1280).convert("L"))
    for luma in (np.asarray(scene(2).convert("L")), letterboxed):
        dihedral, quality = pdq_dihedral_of_luma(luma)
        ours = views.frame_views(luma, dihedral, quality)
        with monkeypatch.context() as patched:
            patched.setattr(views, "view_plane", lambda plane: np.asarray(robust._reduce(plane), np.float32))
            before = views.frame_views(luma, dihedral, quality)
        assert ours == before and len(ours) >= 4


def test_the_angle_of_a_uint8_plane_is_that_of_its_float32_copy() -> None:
    for degrees in (-4.0, 2.5, 0.0):
        luma = np.asarray(scene(8).rotate(degrees, Image.Resampling.BICUBIC, expand=True,
                                          fillcolor=(0, 0, 0)).convert("L"))
        assert corner_angle(luma) == corner_angle(luma.astype(np.float32))
