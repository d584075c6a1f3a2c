"""Videos: vPDQ frame hashes decoded with PyAV (FFmpeg), in bounded time.

vPDQ is Meta's video hash: the PDQ hash of each sampled frame, with its quality and timestamp. Meta's
``vpdq`` package needs FFmpeg's development files and cannot be stopped mid-way, so frames are decoded
here with PyAV, from memory, with the demuxer fixed by the sniffed format. Each chosen frame's luma
(FFmpeg's grey conversion of the frame) is hashed with PDQ; on Meta's sample videos every frame is
within a few bits of Meta's own vPDQ hashes (tests/signals/test_video_conformance.py).

Frames are chosen by timestamp: ``seconds_per_hash=0`` hashes every frame (what a bank should hold),
``1.0`` one frame a second (enough for a query against a dense bank). Only chosen frames are
converted and hashed; every frame must still be decoded, which is what the limits bound.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from stanch.digests import md5_hex, sha256_hex
from stanch.signals.fast_pdq import pdq_dihedral_of_luma
from stanch.signals.frame_views import frame_views
from stanch.signals.limits import DEFAULT_LIMITS, Limits
from stanch.signals.media import MediaFormat
from stanch.signals.types import FrameHash, MediaError, Purpose, VideoSignals

if TYPE_CHECKING:
    import av


class FrameSampler:
    """Picks the frames to hash: every frame, or the first frame at or after each step of a time grid.

    The grid starts at the first frame's timestamp, so sampling does not depend on where a container
    starts counting.
    """

    def __init__(self, seconds_per_hash: float) -> None:
        if not (seconds_per_hash >= 0 and math.isfinite(seconds_per_hash)):
            raise ValueError(f"seconds_per_hash must be 0 (every frame) or a positive number of seconds, "
                             f"got {seconds_per_hash}")
        self._step = seconds_per_hash
        self._start: float | None = None
        self._due = -math.inf

    def wants(self, ts: float) -> bool:
        """Whether the frame shown at ``ts`` seconds is to be hashed (call once per frame, in order)."""
        if self._step == 0:
            return True
        if self._start is None:
            self._start = ts
        if ts + 1e-6 < self._due:
            return False
        steps = math.floor((ts - self._start) / self._step + 1e-6) + 1
        self._due = self._start + steps * self._step
        return True


class DecodeBudget:
    """Counts frames and wall time while decoding, and raises MediaError when a limit is crossed."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._deadline = time.monotonic() + limits.max_decode_seconds
        self._frames = 0
        self._start: float | None = None

    def frame(self, width: int, height: int, ts: float) -> None:
        """Account for one decoded frame of ``width`` x ``height`` shown at ``ts`` seconds.

        Playing time counts from the first frame: some containers start their clock late.
        """
        limits = self._limits
        self._frames += 1
        if self._frames > limits.max_frames:
            raise MediaError(f"more than {limits.max_frames:,} frames (the max_frames limit)")
        if width * height > limits.max_frame_pixels:
            raise MediaError(f"frame of {width}x{height} pixels is over the limit of "
                             f"{limits.max_frame_pixels:,} pixels per frame")
        if self._start is None:
            self._start = ts
        if ts - self._start > limits.max_video_seconds:
            raise MediaError(f"longer than the limit of {limits.max_video_seconds:g} seconds")
        if time.monotonic() > self._deadline:
            raise MediaError(f"decoding took longer than the limit of {limits.max_decode_seconds:g} seconds")


def frame_hash(luma: np.ndarray, ts: float, *, purpose: Purpose = "query") -> FrameHash:
    """The vPDQ entry of one frame: PDQ and quality of its luma plane, at ``ts`` seconds, with the
    frame's views (``stanch.signals.frame_views``; a frame hashed for a bank, ``purpose="bank"``,
    leaves out the ``window`` view only queries look up)."""
    dihedral, quality = pdq_dihedral_of_luma(luma)
    views = frame_views(luma, dihedral, quality, window=purpose != "bank")
    return FrameHash(pdq=dihedral[0], quality=quality, ts=round(ts, 3), views=views)


def video_signals(data: bytes, media: MediaFormat, *, seconds_per_hash: float = 0.0,
                  limits: Limits = DEFAULT_LIMITS, purpose: Purpose = "query") -> VideoSignals:
    """MD5, SHA-256 and the vPDQ frame hashes of a video file held in memory.

    Raises MediaError when the file cannot be demuxed, has no video stream or no decodable frame, or
    breaks a limit (duration, frames, frame size, decoding time).
    """
    sampler = FrameSampler(seconds_per_hash)
    budget = DecodeBudget(limits)
    frames: list[FrameHash] = []
    last_ts = 0.0
    import av  # here, not above: PyAV costs about 130 ms to load, which hashing pictures need not pay

    try:
        with av.open(io.BytesIO(data), mode="r", format=media.decoder) as container:
            stream = _video_stream(container, limits)
            for frame, ts in _timed_frames(container, stream):
                budget.frame(frame.width, frame.height, ts)
                last_ts = ts
                if sampler.wants(ts):
                    luma = _upright(frame.to_ndarray(format="gray"), frame.rotation)
                    frames.append(frame_hash(luma, ts, purpose=purpose))
            duration = _duration(container, stream, last_ts)
    except MediaError:
        raise
    except av.error.EOFError as error:
        raise MediaError(f"this {media.name} file ends before its video frames (empty or truncated)") \
            from error
    except (av.FFmpegError, ValueError, OSError, EOFError) as error:
        raise MediaError(f"could not decode this {media.name} video: {error}") from error
    if not frames:
        raise MediaError(f"this {media.name} file has no decodable video frames")
    return VideoSignals(md5=md5_hex(data), sha256=sha256_hex(data), frames=tuple(frames), duration=duration)


def video_keyframes(data: bytes, media: MediaFormat, count: int = 6,
                    limits: Limits = DEFAULT_LIMITS) -> list[tuple[float, np.ndarray]]:
    """Up to ``count`` frames evenly spaced over a video, upright, as ``(seconds, RGB array)``: what a
    reviewer's preview of a video shows. The frame shown for each of ``count`` equal stretches is the
    first decoded at or after its middle; decoding is bounded by ``limits`` as hashing is (MediaError).
    A video whose container declares no duration is decoded twice (once to learn its length)."""
    import av  # as in video_signals: loaded only when a video is met

    def frames() -> Iterator[tuple[av.VideoFrame, float]]:
        budget = DecodeBudget(limits)
        with av.open(io.BytesIO(data), mode="r", format=media.decoder) as container:
            stream = _video_stream(container, limits)
            for frame, ts in _timed_frames(container, stream):
                budget.frame(frame.width, frame.height, ts)
                yield frame, ts

    try:
        with av.open(io.BytesIO(data), mode="r", format=media.decoder) as container:
            stream = _video_stream(container, limits)
            length = _declared_seconds(container, stream)
        if length is None:
            length = max((ts for _, ts in frames()), default=0.0)
        targets = [length * (i + 0.5) / count for i in range(count)]
        chosen: list[tuple[float, np.ndarray]] = []
        for frame, ts in frames():
            if ts < targets[0]:
                continue
            chosen.append((ts, _upright(frame.to_ndarray(format="rgb24"), frame.rotation)))
            targets = [t for t in targets if t > ts]  # a frame longer than a stretch is shown once
            if not targets:
                break
    except MediaError:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as error:
        raise MediaError(f"could not decode this {media.name} video: {error}") from error
    return chosen


def _upright(luma: np.ndarray, rotation: int) -> np.ndarray:
    """A frame as players show it: turned by the container's display rotation.

    Phones record portrait video as landscape frames with a rotation to apply on display, and
    re-encoders usually bake that rotation in; hashing frames upright (as EXIF orientation is honoured
    for photos) lets the original and such a copy match. ``rotation`` is counterclockwise degrees.
    """
    turns = round(rotation / 90) % 4
    return np.rot90(luma, turns) if turns else luma


def _video_stream(container: av.container.InputContainer, limits: Limits) -> av.VideoStream:
    """The first video stream, checked against the limits before any frame is decoded."""
    if not container.streams.video:
        raise MediaError("the file holds no video stream")
    stream = container.streams.video[0]
    declared = _declared_seconds(container, stream)
    if declared is not None and declared > limits.max_video_seconds:
        raise MediaError(f"video of {declared:,.0f} seconds is longer than the limit of "
                         f"{limits.max_video_seconds:g} seconds")
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > limits.max_frame_pixels:
        raise MediaError(f"frames of {width}x{height} pixels are over the limit of "
                         f"{limits.max_frame_pixels:,} pixels per frame")
    stream.thread_type = "AUTO"  # frame and slice threads: the decoder is most of the cost
    return stream


def _timed_frames(container: av.container.InputContainer,
                  stream: av.VideoStream) -> Iterator[tuple[av.VideoFrame, float]]:
    """Decoded frames with their time in seconds (pts x time base; counted on when a frame has none)."""
    rate = float(stream.average_rate or 0) or 30.0
    previous: float | None = None
    for frame in container.decode(stream):
        if frame.pts is not None and frame.time_base is not None:
            ts = float(frame.pts * Fraction(frame.time_base))
        else:
            ts = 0.0 if previous is None else previous + 1 / rate
        previous = ts
        yield frame, ts


def _declared_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """The duration the file claims (it may lie; decoded timestamps are checked as well)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * Fraction(stream.time_base))
    if container.duration is not None:
        return container.duration / 1_000_000  # FFmpeg's AV_TIME_BASE (av.time_base)
    return None


def _duration(container: av.container.InputContainer, stream: av.VideoStream, last_ts: float) -> float:
    """Playing time in seconds: as declared, or up to the last decoded frame when nothing is declared."""
    declared = _declared_seconds(container, stream)
    return round(declared if declared is not None else last_ts, 3)
