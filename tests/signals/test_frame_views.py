"""Frame views: the hashes that let letterboxed, cropped and mirrored copies of a video match."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stanch.signals import hash_media
from stanch.signals.fast_pdq import luma_of_rgb, pdq_dihedral_of_luma
from stanch.signals.frame_views import (
    BANK_VIEWS,
    QUERY_VIEWS,
    bank_frame_hashes,
    frame_views,
    query_frame_hashes,
    window_box,
)
from stanch.signals.pdq import MATCH_DISTANCE, hamming, parse_pdq_hex
from stanch.signals.types import FrameHash, PdqVariant, VideoSignals
from stanch.signals.video import frame_hash
from tests.signals.media_factory import picture, video

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
CLOSE = 24
"""Well within the 31-bit threshold (a mirror derived from the DCT is a few bits off the real flip's hash)."""


def _luma(width: int = 480, height: int = 270, seed: int = 3) -> np.ndarray:
    return luma_of_rgb(np.asarray(picture(width, height, seed)))


def _distance(a: str, b: str) -> int:
    return hamming(parse_pdq_hex(a), parse_pdq_hex(b))


def _plain(luma: np.ndarray) -> str:
    return pdq_dihedral_of_luma(luma)[0][0]


def _views(luma: np.ndarray) -> tuple[PdqVariant, ...]:
    return frame_views(luma, *pdq_dihedral_of_luma(luma))


def _view(luma: np.ndarray, name: str) -> str:
    return {v.name: v.pdq for v in _views(luma)}[name]


def test_a_letterboxed_copy_trims_to_its_original() -> None:
    original = _luma()
    boxed = np.zeros((360, 480), np.float32)
    boxed[45:315] = original
    assert _distance(_plain(boxed), _plain(original)) > MATCH_DISTANCE
    assert _distance(_view(boxed, "trimmed"), _plain(original)) <= CLOSE


def test_a_mirrored_copy_finds_its_original_through_its_mirror_view() -> None:
    original = _luma()
    mirrored = original[:, ::-1]
    assert _distance(_plain(mirrored), _plain(original)) > MATCH_DISTANCE
    assert _distance(_view(mirrored, "mirror"), _plain(original)) <= CLOSE


def test_a_mirrored_letterboxed_copy_finds_its_original_through_mirror_trimmed() -> None:
    original = _luma()
    copy = np.full((270, 640), 20, np.float32)
    copy[:, 80:560] = original[:, ::-1]
    assert _distance(_view(copy, "mirror-trimmed"), _plain(original)) <= CLOSE


def test_a_cropped_copy_lands_near_the_centre_view() -> None:
    original = _luma(500, 300)
    cropped = original[15:285, 25:475]
    assert _distance(_plain(cropped), _plain(original)) > MATCH_DISTANCE
    assert _distance(_plain(cropped), _view(original, "centre")) <= CLOSE


def test_no_trimmed_view_without_borders_and_no_view_of_a_flat_frame() -> None:
    names = {v.name for v in _views(_luma())}
    assert names == {"centre", "mirror", "top", "bottom"}
    assert _views(np.full((90, 160), 128, np.float32)) == ()
    assert _views(np.zeros((3, 100), np.float32)) == ()


def _in_a_window(picture_luma: np.ndarray, background: np.ndarray, scale: float = 0.7) -> np.ndarray:
    """``picture_luma`` shrunk to ``scale`` and pasted over ``background``, a third of the way down."""
    height, width = background.shape
    small = np.asarray(Image.fromarray(picture_luma.astype(np.uint8)).resize(
        (round(width * scale), round(height * scale)), Image.Resampling.BILINEAR), np.float32)
    top, left = (height - small.shape[0]) // 3, (width - small.shape[1]) // 2
    out = background.copy()
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


def test_a_frame_shrunk_into_a_window_over_other_footage_finds_its_original_through_window() -> None:
    original = _luma()
    copy = _in_a_window(original, _luma(seed=7))
    assert window_box(copy) == (27, 216, 72, 408)
    assert _distance(_plain(copy), _plain(original)) > MATCH_DISTANCE
    assert _distance(_view(copy, "window"), _plain(original)) <= CLOSE
    assert "window" in QUERY_VIEWS and "window" not in BANK_VIEWS


def test_a_frame_hashed_for_a_bank_leaves_out_the_window_view_only_queries_look_up() -> None:
    copy = _in_a_window(_luma(), _luma(seed=7))
    query, bank = frame_hash(copy, 0.0), frame_hash(copy, 0.0, purpose="bank")
    assert "window" in {v.name for v in query.views}
    assert {v.name for v in bank.views} == {v.name for v in query.views} - {"window"}
    assert bank_frame_hashes(bank) == bank_frame_hashes(query)


def test_no_window_in_a_whole_letterboxed_or_small_overlaid_frame() -> None:
    original = _luma()
    boxed = np.zeros((360, 480), np.float32)
    boxed[45:315] = original
    corner = _in_a_window(_luma(seed=7), original, scale=0.3)
    assert [window_box(frame) for frame in (original, boxed, corner)] == [None, None, None]
    assert "window" not in {v.name for v in _views(original)}


def test_bank_and_query_pick_their_views_and_skip_flat_frames() -> None:
    names = ("centre", "trimmed", "mirror", "mirror-trimmed", "top", "bottom", "window")
    views = tuple(PdqVariant(name, f"{i:064x}", 80) for i, name in enumerate(names, 1))
    frame = FrameHash(PDQ, 90, 0.0, (*views, PdqVariant("mirror", f"{9:064x}", 10)))
    assert bank_frame_hashes(frame) == (PDQ, f"{1:064x}", f"{2:064x}", f"{5:064x}", f"{6:064x}")
    assert query_frame_hashes(frame) == (PDQ, *(f"{i:064x}" for i in range(2, 8)))
    assert set(BANK_VIEWS) | set(QUERY_VIEWS) == set(names)
    assert bank_frame_hashes(FrameHash(PDQ, 49, 0.0, views)) == ()
    assert query_frame_hashes(FrameHash(PDQ, 90, 0.0)) == (PDQ,)


@pytest.mark.parametrize("seconds_per_hash", [0.0, 1.0])
def test_video_frames_carry_their_views(seconds_per_hash: float) -> None:
    signals = hash_media(video(seconds=2, fps=5, size=96), seconds_per_hash=seconds_per_hash)
    assert isinstance(signals, VideoSignals)
    for frame in signals.frames:
        assert {v.name for v in frame.views} >= {"centre", "mirror"}


def test_frame_hash_keeps_the_plain_hash_of_the_whole_frame() -> None:
    luma = _luma()
    frame = frame_hash(luma, 1.25)
    assert (frame.pdq, frame.ts) == (_plain(luma), 1.25)
    assert frame.views == _views(luma)
