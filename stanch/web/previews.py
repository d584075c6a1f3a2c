"""Previews of located items for reviewers: blurred and greyscale unless a reviewer unblurs one.

The media is read into memory, turned into a small JPEG in memory and sent; nothing is written to
disk. It comes from the folder catalog (``STANCH_CATALOG_DIR``) or, for items a platform's resolver
gave as a one-time media URL, from the encrypted preview spool (``stanch.desk.spool``), which keeps a
reduced copy until the decision. Items given only as hashes, and spooled previews that are gone
(decided, expired) or fail to decrypt, get a "no preview" message instead.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from stanch.desk.locate import CatalogResolver, LocateError
from stanch.desk.spool import MAX_PREVIEW_PIXELS, PREVIEW_SIZE, Spool, SpoolError
from stanch.signals.image import enable_heif

enable_heif()  # previews open HEIC photos with Pillow directly

BLUR_RADIUS = 14


_NOT_A_PICTURE = ("No preview: this item is not a picture Stanch can show (videos are not previewed). "
                  "Open it on the platform.")
_SPOOL_GONE = ("No preview: the copy kept for review has expired or been deleted, or cannot be read. "
               "Open the item on the platform.")


class NoPreview(LookupError):
    """No preview can be shown; the message says why, in words for the reviewer."""


def catalog() -> CatalogResolver | None:
    """The folder catalog, when ``STANCH_CATALOG_DIR`` is set."""
    folder = os.environ.get("STANCH_CATALOG_DIR")
    return CatalogResolver(Path(folder)) if folder else None


def media_path(item_id: str) -> Path:
    """The catalog file of an item, or ``NoPreview`` saying why there is none."""
    resolver = catalog()
    if resolver is None:
        raise NoPreview("No preview: the platform gives Stanch hashes or a one-time media link, and Stanch "
                        "keeps no media. Open the item on the platform to see it.")
    try:
        path = resolver.path_of(item_id)
    except LocateError as error:
        raise NoPreview(f"No preview: {error}") from None
    if not path.is_file():
        raise NoPreview("No preview: the item is no longer in the catalog.")
    if path.stat().st_size > resolver.max_bytes:
        raise NoPreview("No preview: the file is too large to show.")
    return path


def check_previewable(item_id: str, spool_id: str | None = None, spool: Spool | None = None) -> None:
    """``NoPreview`` unless the item is a picture that can be shown; reads only a catalog file's header
    (a spooled preview, small already, is decrypted in memory)."""
    source = io.BytesIO(media_of(item_id, spool_id, spool)) if spool_id is not None else media_path(item_id)
    try:
        with Image.open(source) as image:
            if image.width * image.height > MAX_PREVIEW_PIXELS:
                raise NoPreview("No preview: the picture is too large to decode safely.")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NoPreview(_NOT_A_PICTURE) from None


def media_of(item_id: str, spool_id: str | None = None, spool: Spool | None = None) -> bytes:
    """The item's media in memory: its spooled preview source (when ``spool_id`` is set) or its
    catalog file; or ``NoPreview``."""
    if spool_id is None:
        return media_path(item_id).read_bytes()
    if spool is None:
        raise NoPreview(_SPOOL_GONE)
    try:
        return spool.get(spool_id, item_id)
    except SpoolError:
        raise NoPreview(_SPOOL_GONE) from None


def preview_jpeg(media: bytes, *, clear: bool = False) -> bytes:
    """A JPEG of at most ``PREVIEW_SIZE`` pixels a side: blurred and greyscale unless ``clear``."""
    try:
        with Image.open(io.BytesIO(media)) as image:
            if image.width * image.height > MAX_PREVIEW_PIXELS:
                raise NoPreview("No preview: the picture is too large to decode safely.")
            image.seek(0)
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NoPreview(_NOT_A_PICTURE) from None
    picture.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
    if not clear:
        picture = ImageOps.grayscale(picture).filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()
