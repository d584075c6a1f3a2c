"""A still picture's signals from its luma plane, and the JPEG path that never loads Pillow.

``image`` opens every format with Pillow; most folders are JPEGs, for which Pillow only told us the
size and the EXIF orientation. ``jpeg_signals`` reads those from the header (``jpeg_header``) and
decodes with libjpeg-turbo (simplejpeg) exactly as ``image.jpeg_luma`` does, so a folder of plain
JPEGs is hashed without importing Pillow at all; any file the header reader or the decoder is unsure
of returns None and goes through Pillow as before, with the same hashes and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simplejpeg

from stanch.digests import Digests, digests_of
from stanch.signals.fast_pdq import MIN_HASHABLE_SIDE, pdq_dihedral_of_luma
from stanch.signals.jpeg_header import JpegHeader, read_header
from stanch.signals.levelled import server_views
from stanch.signals.limits import Limits
from stanch.signals.robust import robust_variants
from stanch.signals.straightened import straightened_views
from stanch.signals.types import ImageSignals, MediaError, Purpose

DRAFT_MIN_SIDE = 768
"""Smallest side a JPEG is decoded at. Measured against pdqhash on full decodes: at 384 the conformance
photos stayed within 8 bits, but smooth 12-megapixel pictures (upscaled photos) moved by up to 18; at
768, 6 at most (benchmarks/hash_images.py checks this on every run)."""


def luma_signals(data: bytes, luma: np.ndarray, purpose: Purpose,
                 digests: Digests | None = None) -> ImageSignals:
    """MD5, SHA-256, PDQ, its quality, the 8 dihedral PDQ hashes and the robustness variants of
    ``purpose`` (``robust_variants``, also computed by the browser, then ``server_views`` and
    ``straightened_views``) of a file
    whose upright luma plane is ``luma``; ``digests`` are ``data``'s when the caller has them."""
    md5, sha256 = digests or digests_of(data)
    dihedral, quality = pdq_dihedral_of_luma(luma)
    # A view of a picture PDQ cannot hash (a strip under 5 pixels) cannot be hashed either.
    hashable = min(luma.shape) >= MIN_HASHABLE_SIDE
    return ImageSignals(
        md5=md5,
        sha256=sha256,
        pdq=dihedral[0],
        quality=quality,
        pdq_dihedral=dihedral,
        variants=(robust_variants(luma, purpose) + server_views(luma, purpose)
                  + straightened_views(luma, purpose)) if hashable else (),
    )


def jpeg_signals(data: bytes, purpose: Purpose, limits: Limits, digests: Digests | None = None,
                 header: JpegHeader | None = None) -> ImageSignals | None:
    """A plain JPEG's signals without Pillow, or None to hash it through Pillow (module docstring).
    ``header``: ``read_header(data)`` when the caller has read it.

    Raises ``MediaError`` only for what the Pillow path would refuse in the same words: a picture over
    ``limits.max_pixels``."""
    header = header or read_header(data)
    if header is None:
        return None
    check_pixels((header.width, header.height), limits.max_pixels, "picture")
    try:
        luma = decode_jpeg_luma(data, (header.width, header.height), header.orientation)
    except MediaError:
        return None  # Pillow decodes what libjpeg-turbo only warned about, and words its own errors
    return luma_signals(data, luma, purpose, digests)


def decode_jpeg_luma(data: bytes, size: tuple[int, int], orientation: int) -> np.ndarray:
    """The luma of a colour or grey JPEG of ``size`` decoded by libjpeg-turbo at the scale Pillow's
    ``Image.draft`` would pick (a power of two keeping ``DRAFT_MIN_SIDE`` pixels a side), turned
    upright for its EXIF ``orientation``. Any warning of the decoder's (truncated data, stray bytes) is
    an error (``strict``)."""
    width, height = size
    ratio = min(width // DRAFT_MIN_SIDE, height // DRAFT_MIN_SIDE)
    scale = next((s for s in (8, 4, 2) if ratio >= s), 1)
    try:
        luma = simplejpeg.decode_jpeg(data, colorspace="GRAY", min_width=-(-width // scale),
                                      min_height=-(-height // scale), strict=True)[:, :, 0]
    except Exception as error:  # libjpeg-turbo's errors and warnings (with strict)
        raise MediaError(f"could not decode this JPEG file: {error}") from error
    return UPRIGHT.get(orientation, _as_is)(luma)


def check_pixels(size: tuple[int, int], max_pixels: int, what: str) -> None:
    """MediaError when a declared width x height is over the limit (before decoding anything)."""
    width, height = size
    if width <= 0 or height <= 0:
        raise MediaError(f"{what} has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise MediaError(f"{what} of {width}x{height} = {width * height:,} pixels is over the limit of "
                         f"{max_pixels:,} pixels (a decompression bomb, or raise max_pixels)")


def _as_is(plane: np.ndarray) -> np.ndarray:
    return plane


UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda plane: plane[:, ::-1],
    3: lambda plane: plane[::-1, ::-1],
    4: lambda plane: plane[::-1],
    5: lambda plane: plane.T,
    6: lambda plane: plane.T[:, ::-1],
    7: lambda plane: plane[::-1, ::-1].T,
    8: lambda plane: plane.T[::-1],
}
"""How a picture stored with each EXIF orientation is turned upright (what ``ImageOps.exif_transpose``
does), as views of the decoded plane; any other value leaves it as it is, as Pillow does."""
