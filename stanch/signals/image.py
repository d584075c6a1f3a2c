"""Still images: safe decoding with Pillow, then PDQ with its 8 rotations and flips.

Decoding is where hostile files bite, so it is fenced: only the decoder of the sniffed format may
open the file, the declared size is checked against the pixel limit before any pixel is decoded, and
Pillow's decompression-bomb warning is an error. Every decoder failure becomes ``MediaError``.

Decoding is also where the time goes. PDQ reduces every picture to a 64x64 grid of luma, so a JPEG
is decoded at a reduced scale straight from its DCT coefficients, keeping at least ``DRAFT_MIN_SIDE``
pixels a side, and as luma only (the JPEG's own Y channel, the luma PDQ uses). A colour or grey JPEG
is decoded by libjpeg-turbo through ``simplejpeg`` straight into an array, the same pixels as Pillow
gives at about two thirds of the time (Pillow's decoder adds buffering, an image object and a copy
into numpy); other JPEGs (CMYK) go through Pillow. Measured on Meta's conformance images, the hashes
stay within 8 bits of ``pdqhash`` on a full decode (Meta's tolerance is 10);
tests/signals/test_conformance.py and benchmarks/hash_images.py hold that.
"""

from __future__ import annotations

import io
import warnings
from functools import cache

import numpy as np
from PIL import ExifTags, Image, ImageOps

from stanch.digests import Digests
from stanch.signals.fast_pdq import luma_of_rgb
from stanch.signals.limits import DEFAULT_LIMITS, Limits
from stanch.signals.media import GIF, JPEG, PNG, WEBP, MediaFormat
from stanch.signals.stills import DRAFT_MIN_SIDE, check_pixels, decode_jpeg_luma, luma_signals
from stanch.signals.types import ImageSignals, MediaError, Purpose

__all__ = ["DRAFT_MIN_SIDE", "check_pixels", "decode_luma", "image_signals", "is_animated", "jpeg_luma",
           "open_image"]


@cache
def enable_heif() -> None:
    """Add the HEIF format to Pillow (AVIF is Pillow's own) the first time a HEIF file comes: loading
    pillow-heif costs about 80 ms that a folder of JPEGs should not pay in every ``stanch hash``.
    Code that opens media with Pillow directly (the desk's previews) calls it first."""
    import pillow_heif

    pillow_heif.register_heif_opener()

def open_image(data: bytes, media: MediaFormat, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Open an image with its format's decoder only, reading just the header, and check its size."""
    if media.decoder == "HEIF":
        enable_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[media.decoder])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise MediaError(f"picture too large to decode safely (a decompression bomb?): {error}") from error
    except Exception as error:  # Pillow raises many types for broken headers
        raise MediaError(f"not a readable {media.name} file: {error}") from error
    check_pixels(image.size, limits.max_pixels, "picture")
    if media is not JPEG:  # a JPEG is decoded reduced and as luma: far below its full size
        check_decode_bytes(image, limits.max_decode_bytes)
    return image


BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}
"""Bytes Pillow stores a decoded pixel in for each mode: every mode of three or four bands (RGB, RGBA,
YCbCr, LA, CMYK ...) and the 32-bit ones (I, F) take 4; these take less."""
SINGLE_BAND_MODES = ("1", "L", "P", "I", "F", "I;16", "I;16B", "I;16L")


def decode_cost(image: Image.Image) -> int:
    """Bytes of pixels decoding an opened picture takes at its peak: its own; a converted RGB copy (4
    bytes a pixel) when its mode is neither grey nor RGB-like; and one band (1 byte) at a time while a
    large one is reduced (``reduced``)."""
    width, height = image.size
    own = BYTES_PER_PIXEL.get(image.mode, 4)
    converted = 0 if image.mode in ("L", "RGB", "RGBA", "RGBa", "RGBX", "LA", "La") else 4
    return width * height * (own + converted + 1)


def check_decode_bytes(image: Image.Image, budget: int) -> None:
    """MediaError when decoding the picture would take more than ``budget`` bytes of pixels."""
    cost = decode_cost(image)
    if cost > budget:
        width, height = image.size
        raise MediaError(f"decoding this {width}x{height} {image.mode} picture takes {cost / 2**20:,.0f} "
                         f"MiB, over the limit of {budget / 2**20:,.0f} MiB (raise max_decode_bytes if it "
                         "is genuine)")


ANIMATED_FORMATS = (GIF, WEBP, PNG)
"""Formats whose extra frames are an animation. Other multi-frame files are not: a phone JPEG's second
picture (MPO) is a preview or depth map, a TIFF's next page another document, a HEIF's a burst shot;
their first (primary) picture is hashed."""


def is_animated(image: Image.Image, media: MediaFormat) -> bool:
    """Whether an opened image holds an animation (hashed as a video) rather than one picture."""
    if media not in ANIMATED_FORMATS:
        return False
    try:  # counting frames reads the whole file: a truncated one fails here (found by scripts/fuzz.py)
        return int(getattr(image, "n_frames", 1)) > 1
    except Exception as error:  # Pillow raises IndexError, EOFError, struct.error ... for broken frames
        raise MediaError(f"not a readable {media.name} file: its frames cannot be counted ({error})"
                         ) from None


def image_signals(data: bytes, image: Image.Image, media: MediaFormat, purpose: Purpose = "query",
                  digests: Digests | None = None, *, libjpeg: bool = True) -> ImageSignals:
    """MD5, SHA-256, PDQ, its quality, the 8 dihedral PDQ hashes and the robustness variants of
    ``purpose``: ``robust_variants`` (also computed by the browser) then ``server_views`` (server only).

    ``image`` is ``data`` opened by ``open_image``; it is decoded here. ``digests`` are ``data``'s
    MD5 and SHA-256 when the caller has them; ``libjpeg`` as ``decode_luma`` takes it.
    """
    return luma_signals(data, decode_luma(data, image, media, libjpeg=libjpeg), purpose, digests)


def decode_luma(data: bytes, image: Image.Image, media: MediaFormat, *, libjpeg: bool = True) -> np.ndarray:
    """PDQ's luma plane of ``data``, opened as ``image`` by ``open_image``, upright (EXIF orientation
    honoured): a colour or grey JPEG's own luma, reduced (``jpeg_luma``), or ``decode_picture``'s.

    A JPEG the fast path refuses goes to Pillow, which decides: libjpeg-turbo's warnings (stray bytes
    before a marker, common in files from the wild) are errors on the fast path, so that truncated
    data is never hashed as grey, but Pillow decodes such files and still refuses truncated ones.
    ``libjpeg=False``: libjpeg-turbo has refused this file already (``stills.jpeg_signals`` read its
    header and tried the same decode), so it is not asked twice."""
    if libjpeg and media is JPEG and image.mode in ("L", "RGB"):  # Pillow's modes of grey and YCbCr JPEGs
        try:
            return jpeg_luma(data, image)
        except MediaError:
            pass
    return luma_of_picture(decode_picture(image, media))


def jpeg_luma(data: bytes, image: Image.Image) -> np.ndarray:
    """The luma of a colour or grey JPEG decoded by libjpeg-turbo at the scale ``Image.draft`` would
    pick (a power of two keeping ``DRAFT_MIN_SIDE`` pixels a side), upright. Any warning of the
    decoder's (truncated data, stray bytes) is an error (``strict``)."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception as error:  # broken EXIF data
        raise MediaError(f"could not decode this JPEG file: {error}") from error
    return decode_jpeg_luma(data, image.size, orientation)


def decode_picture(image: Image.Image, media: MediaFormat) -> Image.Image:
    """Decode an opened image upright (EXIF orientation honoured) in mode L or RGB.

    JPEGs are decoded reduced and as luma, as PDQ allows. Every other mode is converted to RGB, as
    python-threatexchange does before hashing (alpha is dropped, 16-bit grey is clipped), so the
    hashes agree with partners'.
    """
    if media is JPEG:
        image.draft("L", (DRAFT_MIN_SIDE, DRAFT_MIN_SIDE))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            image = reduced(image)
            ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of an upright picture
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise MediaError(f"picture too large to decode safely: {error}") from error
    except Exception as error:  # truncated or corrupt data surfaces here, in many exception types
        raise MediaError(f"could not decode this {media.name} file: {error}") from error
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


REDUCE_ABOVE_PIXELS = 16_000_000
"""Pictures (other than JPEGs, reduced while decoding) larger than this are reduced right after decoding,
before any copy: the float planes of hashing and the views would otherwise take several times the
picture's own memory (a 9400x9400 PNG cost ~2 GB). Smaller ones are hashed at full size, bit for bit
pdqhash's."""


def reduced(image: Image.Image) -> Image.Image:
    """A large decoded picture shrunk by a whole factor (box average, as JPEG's reduced decoding does),
    keeping ``DRAFT_MIN_SIDE`` pixels a side; smaller pictures unchanged.

    Reduced one band at a time: Pillow's own ``reduce`` of an RGBA picture first makes a premultiplied
    copy of the whole of it (an 89 MP RGBA PNG peaked at 741 MB). Alpha is dropped, as the RGB
    conversion before hashing drops it.
    """
    width, height = image.size
    ratio = min(width // DRAFT_MIN_SIDE, height // DRAFT_MIN_SIDE)
    if width * height <= REDUCE_ABOVE_PIXELS or ratio < 2:
        return image
    scale = next(s for s in (8, 4, 2) if ratio >= s)
    if image.mode in ("L", "I", "F"):
        small = image.reduce(scale)
    elif image.mode in ("LA", "La"):
        small = image.getchannel("L").reduce(scale)
    else:
        rgb = image if image.mode in ("RGB", "RGBA", "RGBa", "RGBX") else image.convert("RGB")
        small = Image.merge("RGB", [rgb.getchannel(band).reduce(scale) for band in "RGB"])
    small.info = image.info  # EXIF orientation, for exif_transpose
    return small


def luma_of_picture(picture: Image.Image) -> np.ndarray:
    """PDQ's luma plane of a picture in mode L or RGB."""
    array = np.asarray(picture)
    return array if picture.mode == "L" else luma_of_rgb(array)
