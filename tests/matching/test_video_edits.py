"""Edited copies of a generated video match it through the product's path; other contents do not.

Each video is a slow pan across a generated picture, encoded with PyAV (libx264). The bank side is
what ``stanch bank add`` keeps (every frame with its views, ``entry_from_signals``) loaded into a
``MatchEngine``; a query is hashed one frame a second and matched with ``MatchEngine.match``, as
``stanch match`` and ``POST /v1/match`` do. The edits are those of benchmarks/video_edits.py,
applied to the frames in numpy: a trim, a corner logo, a caption bar, a 10 % speed-up, the video
between two other contents, the video shrunk into a window over another.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
import pytest
from PIL import Image

from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.sync import video_entry
from stanch.matching.verdict import BankRule
from stanch.signals import VideoSignals, hash_media
from stanch.signals.pdq import MATCH_DISTANCE
from stanch.store import entry_from_signals

FPS = 10
SECONDS = 6.0
SIZE = (192, 144)
Frames = list[np.ndarray]


def pan(seed: int, seconds: float = SECONDS) -> Frames:
    """A window of 60 % of a generated picture drifting from its left to its right edge."""
    coarse = np.random.default_rng(seed).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    photo = Image.fromarray(coarse).resize((640, 480), Image.Resampling.BICUBIC)
    count = round(seconds * FPS)
    frames = []
    for k in range(count):
        x = 256 * k / (count - 1)
        frames.append(np.asarray(photo.resize(SIZE, Image.Resampling.BILINEAR, box=(x, 96, x + 384, 384))))
    return frames


def encoded(frames: Frames) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.pix_fmt = "yuv420p"
        stream.width, stream.height = SIZE
        stream.options = {"preset": "ultrafast", "crf": "23"}
        stream.codec_context.thread_count = 1
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


def signals(frames: Frames, seconds_per_hash: float) -> VideoSignals:
    hashed = hash_media(encoded(frames), seconds_per_hash=seconds_per_hash)
    assert isinstance(hashed, VideoSignals)
    return hashed


@pytest.fixture(scope="module")
def engine() -> MatchEngine:
    """A bank of three videos: entries 0, 1 and 2 are pans across pictures of seeds 0, 1 and 2."""
    engine = MatchEngine()
    engine.set_bank(BankRule(1, "videos", MATCH_DISTANCE))
    engine.add(video_entry(BankedEntry(seed, 1, "video"), entry_from_signals(signals(pan(seed), 0.0)).frames)
               for seed in range(3))
    return engine


def logo(frames: Frames) -> Frames:
    """An opaque box of 40 % of the width and height in the lower right corner, with stripes."""
    out = [f.copy() for f in frames]
    for f in out:
        f[82:140, 110:188] = (230, 40, 90)
        f[90:130:8, 118:180] = 255
    return out


def caption(frames: Frames) -> Frames:
    """A dark bar over the lowest quarter of the picture, with light strokes in it."""
    out = [f.copy() for f in frames]
    for f in out:
        f[108:] = 15
        f[118:130, 10:150:6] = 255
    return out


def faster(frames: Frames) -> Frames:
    """Played 1.1 times as fast: each output frame shows the source frame of its time."""
    return [frames[int(k * 1.1)] for k in range(int(len(frames) / 1.1))]


def between_others(frames: Frames) -> Frames:
    """Eight seconds of an unbanked content, 4.5 s of the video, then five seconds of another: the
    clip is under a third of the query and shorter than ``MIN_SECONDS``, but most of the banked video."""
    return pan(10, 8.0) + frames[:45] + pan(11, 5.0)


def in_a_window(frames: Frames) -> Frames:
    """Shrunk to 70 % in a window over another, unbanked, pan (picture-in-picture the other way round)."""
    out = []
    for frame, background in zip(frames, pan(12), strict=True):
        small = np.asarray(Image.fromarray(frame).resize((134, 101), Image.Resampling.BILINEAR))
        around = background.copy()
        around[14:115, 29:163] = small
        out.append(around)
    return out


EDITS: dict[str, Callable[[Frames], Frames]] = {
    "trim-start": lambda f: f[25:],
    "trim-end": lambda f: f[:30],
    "middle-cut": lambda f: f[:20] + f[35:],
    "logo": logo,
    "caption": caption,
    "speed+10%": faster,
    "between-others": between_others,
    "in-a-window": in_a_window,
}


@pytest.mark.parametrize("edit", EDITS)
def test_an_edited_copy_matches_its_original_only(engine: MatchEngine, edit: str) -> None:
    verdict = engine.match(signals(EDITS[edit](pan(1)), 1.0))
    assert [m.entry for m in verdict.matches] == [1], verdict
    assert verdict.matches[0].segment is not None


def test_other_contents_match_nothing(engine: MatchEngine) -> None:
    for seed in (10, 11):
        assert engine.match(signals(pan(seed), 1.0)).matches == ()


def test_the_other_contents_alone_would_not_have_matched(engine: MatchEngine) -> None:
    """Without the banked video in it, the compilation's footage matches nothing: the match above is
    the banked video's, found inside the longer query."""
    assert engine.match(signals(pan(10, 8.0) + pan(11, 5.0), 1.0)).matches == ()
    assert engine.match(signals(pan(12), 1.0)).matches == ()
