"""Animated GIF, WebP and PNG: hashed like a short video, one vPDQ entry per sampled frame.

A still PDQ of an animation would describe only its first frame; hashing the frames as a video lets
any part of the animation match. Pillow composes each frame (GIF disposal, WebP blending) so the
picture hashed is the one a viewer sees. Frame times come from each frame's display duration.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from stanch.digests import md5_hex, sha256_hex
from stanch.signals.image import check_pixels, luma_of_picture
from stanch.signals.limits import DEFAULT_LIMITS, Limits
from stanch.signals.media import MediaFormat
from stanch.signals.types import FrameHash, MediaError, VideoSignals
from stanch.signals.video import DecodeBudget, FrameSampler, frame_hash

DEFAULT_FRAME_MS = 100
"""Display time of a frame that declares none (or under 20 ms), as browsers show it."""


def animation_signals(data: bytes, image: Image.Image, media: MediaFormat, *, seconds_per_hash: float = 0.0,
                      limits: Limits = DEFAULT_LIMITS) -> VideoSignals:
    """MD5, SHA-256 and vPDQ frame hashes of an animated image (``image`` is ``data`` opened by Pillow)."""
    sampler = FrameSampler(seconds_per_hash)
    budget = DecodeBudget(limits)
    check_pixels(image.size, limits.max_frame_pixels, "animation frame")
    frames: list[FrameHash] = []
    ts = 0.0
    try:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            budget.frame(image.width, image.height, ts)
            if sampler.wants(ts):
                frames.append(frame_hash(_frame_luma(image), ts))
            ts += _frame_seconds(image)
    except MediaError:
        raise
    except Exception as error:  # Pillow raises many types for corrupt frames
        raise MediaError(f"could not decode this animated {media.name} file: {error}") from error
    return VideoSignals(md5=md5_hex(data), sha256=sha256_hex(data), frames=tuple(frames),
                        duration=round(ts, 3))


def _frame_luma(image: Image.Image) -> np.ndarray:
    """The current frame as PDQ's luma, converted through RGB as still pictures are."""
    picture = image if image.mode in ("L", "RGB") else image.convert("RGB")
    return luma_of_picture(picture)


def _frame_seconds(image: Image.Image) -> float:
    duration = image.info.get("duration") or 0
    return (duration if duration >= 20 else DEFAULT_FRAME_MS) / 1000
