"""Previews of located items for reviewers: blurred and greyscale unless a reviewer unblurs one.

The media is read into memory, turned into a small JPEG in memory and sent; nothing is written to
disk. It comes from the folder catalog (``STANCH_CATALOG_DIR``) or, for items a platform's resolver
gave as a one-time media URL, from the encrypted preview spool (``stanch.desk.spool``), which keeps a
reduced copy until the decision. Items given only as hashes, and spooled previews that are gone
(decided, expired) or fail to decrypt, get a "no preview" message instead.

A video is previewed as a few keyframes (``stanch.desk.spool.preview_source``: at most six, evenly
spaced, reduced): kept in the spool for a video reached by a media URL or a sweep, made in memory from
a catalog file. Each frame is shown like a picture, blurred and greyscale unless unblurred.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from stanch.desk.locate import CatalogResolver, LocateError
from stanch.desk.spool import (
    MAX_PREVIEW_PIXELS,
    PREVIEW_SIZE,
    Spool,
    SpoolError,
    keyframe,
    keyframe_count,
    preview_source,
)
from stanch.signals import MediaError, sniff_format
from stanch.signals.image import enable_heif

enable_heif()  # previews open HEIC photos with Pillow directly

BLUR_RADIUS = 14


_NOT_A_PICTURE = ("No preview: this item is not a picture or video Stanch can show. "
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


def check_previewable(item_id: str, spool_id: str | None = None, spool: Spool | None = None) -> int | None:
    """``NoPreview`` unless the item is a picture or video that can be shown; returns a video's number
    of keyframes (None for a picture). Reads only a catalog picture's header (a catalog video is
    decoded for its keyframes, in memory; a spooled preview, small already, is decrypted in memory)."""
    source: io.BytesIO | Path
    if spool_id is not None:
        media = media_of(item_id, spool_id, spool)
        frames = keyframe_count(media)
        if frames is not None:
            return frames
        source = io.BytesIO(media)
    else:
        source = media_path(item_id)
        with source.open("rb") as handle:
            if _sniffs_video(handle.read(64)):
                return _frames_of(media_of(item_id))
    try:
        with Image.open(source) as image:
            if image.width * image.height > MAX_PREVIEW_PIXELS:
                raise NoPreview("No preview: the picture is too large to decode safely.")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise NoPreview(_NOT_A_PICTURE) from None
    return None


def _frames_of(video: bytes) -> int:
    source = preview_source(video)
    count = keyframe_count(source) if source is not None else None
    if count is None:
        raise NoPreview("No preview: the video's frames cannot be decoded. Open it on the platform.")
    return count


def frame_source(media: bytes, frame: int) -> bytes:
    """The picture to show for ``frame`` of an item's media: a spooled keyframe, a keyframe made now of
    a catalog video, or the picture itself (frame 0); ``NoPreview`` when there is no such frame."""
    if keyframe_count(media) is None and _sniffs_video(media):
        made = preview_source(media)
        if made is None:
            raise NoPreview("No preview: the video's frames cannot be decoded. Open it on the platform.")
        media = made
    try:
        return keyframe(media, frame)
    except IndexError:
        raise NoPreview(f"No preview: there is no frame {frame} of this item.") from None


def _sniffs_video(media: bytes) -> bool:
    try:
        return sniff_format(media).container == "video"
    except MediaError:
        return False


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


def preview_jpeg(media: bytes, *, clear: bool = False, frame: int = 0) -> bytes:
    """A JPEG of at most ``PREVIEW_SIZE`` pixels a side (of keyframe ``frame`` for a video): blurred and
    greyscale unless ``clear``."""
    media = frame_source(media, frame)
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
