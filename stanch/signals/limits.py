"""Limits that keep hashing hostile or broken media bounded in time and memory.

Media comes from strangers: a 40 kB PNG can declare a billion pixels, a video can run for days or
stall a decoder. Every limit here is checked before the expensive step it guards, and breaking one
raises ``MediaError`` naming the limit, so an operator knows which setting to raise if the file is
genuine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How much work one file may cost. The defaults suit phone photos and videos up to an hour."""

    max_bytes: int = 512 * 1024 * 1024
    """Largest file accepted, in bytes (512 MiB)."""
    max_pixels: int = 89_000_000
    """Largest still image, in pixels (width x height); guards against decompression bombs.

    Pillow's own bomb check (``PIL.Image.MAX_IMAGE_PIXELS``, about 89.5 million) also applies and is
    treated as an error, so raising this above it needs that raised too."""
    max_frame_pixels: int = 7680 * 4320
    """Largest video or animation frame, in pixels (8K)."""
    max_video_seconds: float = 3 * 3600.0
    """Longest video accepted, in seconds of playing time."""
    max_decode_seconds: float = 600.0
    """Longest wall-clock time spent decoding one video or animation."""
    max_frames: int = 500_000
    """Most frames decoded from one video or animation."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_frame_pixels", "max_video_seconds",
                     "max_decode_seconds", "max_frames"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")


DEFAULT_LIMITS = Limits()
