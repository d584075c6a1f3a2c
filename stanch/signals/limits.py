"""Limits that keep hashing hostile or broken media bounded in time and memory.

Media comes from strangers: a 40 kB PNG can declare a billion pixels, a video can run for days or
stall a decoder. Every limit here is checked before the expensive step it guards, and breaking one
raises ``MediaError`` naming the limit, so an operator knows which setting to raise if the file is
genuine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
    max_decode_bytes: int = 448 * 2**20
    """Most memory one still picture's decoded pixels may take (448 MiB), judged from its header before
    anything is decoded: width x height x (the bytes Pillow stores a pixel in, 4 for RGB and RGBA; 4
    more for a converted copy when its mode needs one; 1 for the band being reduced). Every RGB or RGBA
    picture under ``max_pixels`` passes (89 MP: 424 MiB) and is reduced at once; an 89-megapixel
    palette picture (1 + 4 + 1 bytes: 509 MiB) is refused."""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_frame_pixels", "max_video_seconds",
                     "max_decode_seconds", "max_frames", "max_decode_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")


DEFAULT_LIMITS = Limits()


DEFAULT_CONCURRENT_DECODES = 2
"""Files decoded at once in one process when ``STANCH_MAX_DECODES`` is unset (the machine's two cores)."""
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def concurrent_decodes() -> int:
    """How many files one process decodes at once: ``STANCH_MAX_DECODES`` (a positive whole number)."""
    text = os.environ.get("STANCH_MAX_DECODES", "").strip()
    if not text:
        return DEFAULT_CONCURRENT_DECODES
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"STANCH_MAX_DECODES must be a whole number of at least 1, not {text!r}")
    return int(text)


@contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the process's decode slots while decoding: the memory budget above is per decode,
    so without a cap N uploads at once would cost N budgets; with it, at most
    ``concurrent_decodes()`` budgets, whatever the number of requests (the rest wait their turn)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(concurrent_decodes())
    with _slots:
        yield
