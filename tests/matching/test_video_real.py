"""The video rule on a real video: a sample re-encoded without its first 1.3 seconds finds its place.

Only the first seconds are decoded and encoded (PyAV, no ffmpeg command), to stay fast. The bank side
hashes every frame: in this hand-held shot the PDQ of neighbouring frames differs by 20-60 bits, so
a query frame needs the banked frame of the same instant.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from stanch.matching.video import frame_matches_by_scan, match_video
from stanch.signals import sniff_format, video_signals
from stanch.signals.fast_pdq import luma_of_rgb
from stanch.signals.types import FrameHash
from stanch.signals.video import frame_hash

SECONDS = 4.5
TRIM = 1.3


def first_seconds(path: Path, seconds: float = SECONDS) -> list[tuple[np.ndarray, float]]:
    """The RGB frames of the first ``seconds``, with their times."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is None or frame.time >= seconds:
                break
            frames.append((frame.to_ndarray(format="rgb24"), float(frame.time)))
    return frames


def bank_frames(frames: list[tuple[np.ndarray, float]]) -> list[FrameHash]:
    """Every frame hashed as the bank side hashes frames (the plain vPDQ hash of its luma)."""
    return [frame_hash(luma_of_rgb(rgb), ts) for rgb, ts in frames]


def trimmed_copy(frames: list[tuple[np.ndarray, float]], path: Path) -> bytes:
    """The frames after ``TRIM`` seconds, encoded again with libx264 at a low bitrate."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.pix_fmt = "yuv420p"
        stream.height, stream.width = frames[0][0].shape[:2]
        stream.bit_rate = 300_000
        stream.options = {"preset": "ultrafast"}
        kept = [rgb for rgb, ts in frames if ts >= TRIM]
        for index, rgb in enumerate(kept):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


@pytest.fixture(scope="module")
def samples(conformance: Path) -> Path:
    return conformance / "vpdq" / "sample-videos"


def test_a_trimmed_reencoded_sample_matches_its_original_from_1_3_seconds(samples, tmp_path):
    original = first_seconds(samples / "chair-19-sd-bar.mp4")
    data = trimmed_copy(original, tmp_path / "trimmed.mp4")
    query = video_signals(data, sniff_format(data), seconds_per_hash=1.0).frames
    bank = bank_frames(original)
    matches = frame_matches_by_scan([(f.pdq,) for f in query], [(f.pdq,) for f in bank])
    result = match_video(query, bank, matches)
    assert result.matched, result.reason
    assert result.share >= 0.8
    assert result.bank_segment is not None and result.query_segment is not None
    assert result.query_segment[0] == 0
    assert result.bank_segment[0] == pytest.approx(TRIM, abs=0.35)
    assert result.speed == pytest.approx(1.0, abs=0.15)

    unrelated = bank_frames(first_seconds(samples / "pattern-sd-grey-bar.mp4", 3.0))
    matches = frame_matches_by_scan([(f.pdq,) for f in query], [(f.pdq,) for f in unrelated])
    assert not match_video(query, unrelated, matches).matched
