"""Frame views end to end: a letterboxed and a mirrored copy of a sample video match through the store
and the engine (SQLite and PostgreSQL); an unrelated sample does not.

The clips are the first 3 seconds of Meta's samples, made small and encoded with PyAV's libx264 (no
ffmpeg command), so hashing them takes about a second.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from stanch.matching.engine import MatchEngine
from stanch.matching.sync import BankFollower
from stanch.signals import VideoSignals, hash_media
from stanch.signals.frame_views import BANK_VIEWS
from stanch.store import Database, add_entry, create_bank, entry_from_signals, get_bank, iter_entries

SECONDS = 3.0
HEIGHT = 180


def _frames(path: Path) -> list[np.ndarray]:
    """The first ``SECONDS`` of a video as RGB, ``HEIGHT`` pixels high."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is None or frame.time >= SECONDS:
                break
            width = round(frame.width * HEIGHT / frame.height / 2) * 2
            frames.append(frame.reformat(width=width, height=HEIGHT, format="rgb24").to_ndarray())
    return frames


def _encoded(frames: list[np.ndarray], path: Path) -> bytes:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.pix_fmt = "yuv420p"
        stream.height, stream.width = frames[0].shape[:2]
        stream.options = {"preset": "ultrafast", "crf": "26"}
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path.read_bytes()


def _letterboxed(rgb: np.ndarray) -> np.ndarray:
    bar = np.zeros((HEIGHT // 6, rgb.shape[1], 3), np.uint8)
    return np.concatenate([bar, rgb, bar])


@pytest.fixture(scope="module")
def clips(conformance: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, VideoSignals]:
    """The banked original (every frame hashed) and the queries (one frame a second)."""
    folder = tmp_path_factory.mktemp("clips")
    samples = conformance / "vpdq" / "sample-videos"
    original = _frames(samples / "chair-19-sd-bar.mp4")
    made = {
        "original": (original, 0.0),
        "letterboxed": ([_letterboxed(f) for f in original], 1.0),
        "mirrored": ([f[:, ::-1] for f in original], 1.0),
        "unrelated": (_frames(samples / "pattern-sd-grey-bar.mp4"), 1.0),
    }
    hashed = {}
    for name, (frames, seconds_per_hash) in made.items():
        signals = hash_media(_encoded(frames, folder / f"{name}.mp4"), seconds_per_hash=seconds_per_hash)
        assert isinstance(signals, VideoSignals)
        hashed[name] = signals
    return hashed


def _without_views(signals: VideoSignals) -> VideoSignals:
    return replace(signals, frames=tuple(replace(f, views=()) for f in signals.frames))


def _engine(db: Database) -> MatchEngine:
    follower = BankFollower(db, MatchEngine())
    follower.load()
    return follower.engine


def test_letterboxed_and_mirrored_copies_match_through_the_bank(database: Database, clips) -> None:
    with database.write() as session:
        entry = add_entry(session, create_bank(session, "ncii"), entry_from_signals(clips["original"]))
    engine = _engine(database)
    for name in ("letterboxed", "mirrored"):
        verdict = engine.match(clips[name])
        assert verdict.matched, name
        assert [m.entry for m in verdict.matches] == [entry]
        assert verdict.matches[0].segment is not None
        assert verdict.matches[0].segment["share"] >= 0.5
        assert not engine.match(_without_views(clips[name])).matched, f"{name} needs its views"
    assert not engine.match(clips["unrelated"]).matched


def test_an_entry_added_while_following_is_matched_through_its_views(database: Database, clips) -> None:
    with database.write() as session:
        create_bank(session, "ncii")
    follower = BankFollower(database, MatchEngine())
    follower.load()
    assert not follower.engine.match(clips["mirrored"]).matched
    with database.write() as session:
        add_entry(session, get_bank(session, "ncii"), entry_from_signals(clips["original"]))
    follower.poll()
    assert follower.engine.match(clips["mirrored"]).matched


def test_the_bank_keeps_its_views_of_every_frame_and_exports_them(database: Database, clips) -> None:
    original = clips["original"]
    with database.write() as session:
        bank = create_bank(session, "ncii")
        add_entry(session, bank, entry_from_signals(original))
        (stored,) = list(iter_entries(session, bank))
    assert [f.ts for f in stored.frames] == [f.ts for f in original.frames]
    for frame, kept in zip(original.frames, stored.frames, strict=True):
        wanted = [(v.name, v.pdq) for v in frame.views if v.name in BANK_VIEWS and v.quality >= 50]
        assert [(v.role, v.pdq.hex()) for v in kept.views] == wanted
    assert sum(len(f.views) for f in stored.frames) >= len(stored.frames)
