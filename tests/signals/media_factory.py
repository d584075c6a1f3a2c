"""Test media generated on the fly (tests use no media but Meta's conformance set and these)."""

from __future__ import annotations

import io
import struct
import zlib

import av
import numpy as np
from PIL import Image, ImageDraw


def picture(width: int = 320, height: int = 240, seed: int = 0) -> Image.Image:
    """A random RGB picture with detail at PDQ's scale (and no symmetry)."""
    coarse = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def with_display_rotation(mp4: bytes, clockwise: bool) -> bytes:
    """An MP4 whose track tells players to turn it a quarter turn on display (as phones record).

    Rewrites the 3x3 matrix of the first track header (``tkhd``, version 0): 44 bytes after its type.
    """
    start = mp4.index(b"tkhd") + 44
    one = 1 << 16
    matrix = (0, one, 0, -one, 0, 0, 0, 0, 1 << 30) if clockwise else (0, -one, 0, one, 0, 0, 0, 0, 1 << 30)
    return mp4[:start] + struct.pack(">9i", *matrix) + mp4[start + 36:]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


class _Stream:
    """A write-only file: a muxer cannot go back to record the duration, as when streaming."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> int:
        return self.buffer.write(data)


def video(seconds: float, fps: int = 10, size: int = 64, codec: str = "mpeg4", fmt: str = "mp4",
          declare_duration: bool = True, turn: int = 0) -> bytes:
    """A small video of changing random shapes, encoded with PyAV (no FFmpeg program needed).

    ``declare_duration=False`` (Matroska only) writes it as a stream, without a duration in the header.
    ``turn`` = k stores every frame turned k quarter turns anticlockwise (``np.rot90``).
    """
    output = _Stream() if not declare_duration else None
    buffer = output.buffer if output else io.BytesIO()
    with av.open(output or buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        container.start_encoding()  # writes the header even when there are no frames
        for index in range(round(seconds * fps)):
            pixels = np.ascontiguousarray(np.rot90(np.asarray(picture(size, size, seed=index)), turn))
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()

def scene(seed: int, height: int = 480, width: int = 640) -> Image.Image:
    """A photo-like picture: smooth colour fields, mid-frequency detail and a few solid objects."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(
        (width, height), Image.Resampling.BICUBIC)
    detail = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).resize((width, height))
    mixed = (0.7 * np.asarray(coarse, np.float32) + 0.3 * np.asarray(detail, np.float32)).astype(np.uint8)
    image = Image.fromarray(mixed)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        left, top = int(rng.integers(0, width * 3 // 4)), int(rng.integers(0, height * 3 // 4))
        right = left + int(rng.integers(width // 8, width // 3))
        bottom = top + int(rng.integers(height // 8, height // 3))
        draw.rectangle((left, top, right, bottom), fill=tuple(int(c) for c in rng.integers(40, 256, 3)))
    return image
