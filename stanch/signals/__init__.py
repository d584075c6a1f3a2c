"""Signals: media bytes in, hashes out. Pure functions; no files, network or database.

A hash here is a short fingerprint computed from a picture or a video: copies of the same content give
the same or nearby hashes, and the content cannot be rebuilt from it.

The entry point is ``hash_media(data)``; ``signals_record`` and ``signals_from_record`` convert to and
from the JSON objects of ``stanch hash`` (DESIGN.md's contract). Limits against hostile input are a
``Limits`` value. Anything that cannot be hashed raises ``MediaError`` with a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stanch.digests import Digests
from stanch.signals.jpeg_header import read_header
from stanch.signals.limits import DEFAULT_LIMITS, Limits, decode_slot
from stanch.signals.media import JPEG, SUPPORTED, MediaFormat, sniff_format
from stanch.signals.records import signals_from_record, signals_record
from stanch.signals.stills import jpeg_signals
from stanch.signals.types import (
    PURPOSES,
    FrameHash,
    ImageSignals,
    MediaError,
    MediaSignals,
    PdqVariant,
    Purpose,
    VideoSignals,
)

if TYPE_CHECKING:
    from stanch.signals.video import video_signals as video_signals

__all__ = [
    "DEFAULT_LIMITS",
    "PURPOSES",
    "QUERY_SECONDS_PER_HASH",
    "SUPPORTED",
    "FrameHash",
    "ImageSignals",
    "Limits",
    "MediaError",
    "MediaFormat",
    "MediaSignals",
    "PdqVariant",
    "Purpose",
    "VideoSignals",
    "hash_media",
    "signals_from_record",
    "signals_record",
    "sniff_format",
]


QUERY_SECONDS_PER_HASH = 1.0
"""How a video is sampled when it is looked up (an upload, a sweep's item, ``stanch match``): one frame
a second; banks hash every frame (``seconds_per_hash=0``), which the video rule expects."""


def hash_media(data: bytes, *, purpose: Purpose = "query", seconds_per_hash: float = 0.0,
               limits: Limits = DEFAULT_LIMITS, digests: Digests | None = None) -> MediaSignals:
    """Hash one file's bytes: ``ImageSignals`` for a still image, ``VideoSignals`` for a video.

    ``purpose`` says what a still image is hashed for: ``"query"`` (to be matched: an upload) leaves
    out the views only a bank uses, ``"bank"`` (to be banked) computes them too; the hashes a query
    looks up are the same either way. A video's frames hashed for a bank leave out the ``window``
    view, which only a query looks up. Animated GIF, WebP and PNG files are hashed as videos.
    ``seconds_per_hash`` picks video frames: 0 hashes every frame (for banks), 1.0 one frame a second
    (for queries). Raises ``MediaError`` for empty, unsupported, corrupt or over-limit input, and
    ``ValueError`` for an unknown ``purpose``. ``digests``: ``data``'s MD5 and SHA-256
    (``stanch.digests.digests_of``) when the caller computed them already (``stanch hash`` does while
    numpy loads); a still picture's record takes them as they are.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    if len(data) > limits.max_bytes:
        raise MediaError(f"file of {len(data):,} bytes is over the size limit of {limits.max_bytes:,} bytes")
    media = sniff_format(data)
    with decode_slot():
        if media.container == "video":
            from stanch.signals.video import video_signals as video_signals

            return video_signals(data, media, seconds_per_hash=seconds_per_hash, limits=limits,
                                 purpose=purpose)
        header = read_header(data) if media is JPEG else None
        signals = jpeg_signals(data, purpose, limits, digests, header) if header is not None else None
        if signals is not None:
            return signals  # a plain JPEG, read without Pillow (stanch.signals.stills)
        from stanch.signals.image import image_signals, is_animated, open_image

        image = open_image(data, media, limits)
        with image:
            if is_animated(image, media):
                from stanch.signals.animation import animation_signals

                return animation_signals(data, image, media, seconds_per_hash=seconds_per_hash,
                                         limits=limits)
            return image_signals(data, image, media, purpose, digests, libjpeg=header is None)


def __getattr__(name: str) -> Any:
    """``video_signals``, loaded on first use: the video code (and ``fractions``, ``decimal``) is
    imported only when a video or an animation comes, not by every ``stanch hash`` of still pictures."""
    if name == "video_signals":
        from stanch.signals.video import video_signals as video_signals

        return video_signals
    raise AttributeError(f"module 'stanch.signals' has no attribute {name!r}")
