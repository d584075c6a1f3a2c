"""Recognising what a file is from its first bytes, against an allow-list of formats.

File names and declared content types lie; the bytes do not. Sniffing the content picks the one
decoder that may look at the file (Pillow's plugin or FFmpeg's demuxer), so a hostile file cannot
steer it to an exotic decoder (FFmpeg playlist demuxers, for one, would open other files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stanch.signals.types import MediaError


@dataclass(frozen=True)
class MediaFormat:
    """A supported format: its name, whether it holds a still image or a video, and its decoder."""

    name: str
    container: Literal["image", "video"]
    decoder: str
    """Pillow's format name for images, FFmpeg's demuxer name for videos."""


JPEG = MediaFormat("JPEG", "image", "JPEG")
PNG = MediaFormat("PNG", "image", "PNG")
GIF = MediaFormat("GIF", "image", "GIF")
WEBP = MediaFormat("WebP", "image", "WEBP")
BMP = MediaFormat("BMP", "image", "BMP")
TIFF = MediaFormat("TIFF", "image", "TIFF")
HEIF = MediaFormat("HEIC/HEIF", "image", "HEIF")
AVIF = MediaFormat("AVIF", "image", "AVIF")
MP4 = MediaFormat("MP4/MOV", "video", "mov")
MATROSKA = MediaFormat("WebM/Matroska", "video", "matroska")
AVI = MediaFormat("AVI", "video", "avi")

SUPPORTED = (JPEG, PNG, WEBP, GIF, BMP, TIFF, HEIF, AVIF, MP4, MATROSKA, AVI)

_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                          b"mif1", b"mif2", b"msf1"})
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def sniff_format(data: bytes) -> MediaFormat:
    """The format of a file from its content; MediaError if it is empty or not a supported format."""
    if not data:
        raise MediaError("the file is empty (0 bytes)")
    found = _by_signature(data)
    if found is None:
        names = ", ".join(f.name for f in SUPPORTED)
        raise MediaError(f"not a supported image or video (it starts with bytes {data[:8].hex(' ')}); "
                         f"supported formats: {names}")
    return found


def _by_signature(data: bytes) -> MediaFormat | None:
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return AVI
    if head.startswith(b"BM") and len(data) >= 26:
        return BMP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if head[4:8] == b"ftyp":
        return _by_brands(data)
    if head[4:8] in _QUICKTIME_ATOMS:
        return MP4
    return None


def _by_brands(data: bytes) -> MediaFormat:
    """MP4, MOV, HEIC and AVIF share one container (ISO base media); its ``ftyp`` brands tell them apart."""
    size = int.from_bytes(data[:4], "big")
    box = data[8:max(16, min(size, 4096))]
    brands = {box[i:i + 4] for i in range(0, len(box) - 3, 4)} - {b"\x00\x00\x00\x00"}
    brands.discard(box[4:8])  # the minor version is a number, not a brand
    brands.add(box[:4])
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    return MP4
