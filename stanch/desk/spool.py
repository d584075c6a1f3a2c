"""The preview spool: short-lived, encrypted preview sources of items located by a media URL.

A platform behind the resolver webhook may answer with a ``media_url`` instead of hashes. Stanch
fetches it once, in memory, to hash it; the URL is usually short-lived, so it cannot be fetched again
when a reviewer opens the case. The safety rule allows exactly one exception to "hashes, never media":
media a reviewer must see lives in memory or in a short-lived encrypted spool and is deleted when the
decision is made. This module is that spool.

What is kept is not the media but a preview source: the picture downscaled to at most
``SOURCE_SIZE`` (twice the reviewers' preview) pixels a side and re-encoded as JPEG, in memory. The
spool therefore never holds full-resolution intimate imagery, only what the desk shows anyway (blurred
and greyscale by default, clear on an audited unblur), so a leaked disk or key exposes as little as
possible. A video's preview source is a few keyframes (at most ``MAX_KEYFRAMES``, evenly spaced,
each downscaled and re-encoded the same way) bundled in one spool file: a reviewer sees those frames,
never the video. Anything that is neither is not spooled.

Each preview is one file named by a random ``spool_id`` recorded on its ``request_items`` row,
encrypted with AES-256-GCM under a random 96-bit nonce (stored in front of the ciphertext), with the
spool id and item id as associated data, so a file renamed or moved to another item does not decrypt.
The key is ``STANCH_SPOOL_KEY`` (32 bytes, hex or base64) or else one generated once and kept in the
``desk_secrets`` table. Files live in ``STANCH_SPOOL_DIR`` (default ``stanch-spool`` beside a SQLite
database, or in the working directory), a 0700 folder of 0600 files.

A preview is deleted when the request is decided ``remove`` or ``reject`` (``need_info`` keeps it:
the case is still open; a copy still on the review list keeps its own until it is decided,
``stanch.desk.copy_review``), when it is withdrawn, and by the desk ticker once older than
``STANCH_SPOOL_HOURS`` (default 72). A deletion inside a transaction that is later rolled back leaves
the row pointing at no file, which the desk shows as "no preview": the spool errs on forgetting.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.config import hours_setting
from stanch.desk.desk_secrets import stored_or_new_secret, stored_secret
from stanch.signals import MediaError, sniff_format
from stanch.signals.image import enable_heif
from stanch.signals.video import video_keyframes
from stanch.store.desk_models import RequestItem, TakedownRequest

enable_heif()  # the previews open HEIC photos with Pillow directly

PREVIEW_SIZE = 480
"""Pixels a side of the previews reviewers see."""
SOURCE_SIZE = 2 * PREVIEW_SIZE
"""Pixels a side of a spooled preview source: enough for a sharp preview, far from the original."""
MAX_PREVIEW_PIXELS = 40_000_000
"""Larger pictures are not decoded for a preview (decompression bombs)."""
MAX_KEYFRAMES = 6
"""Frames kept of a video for its preview."""
SPOOL_HOURS = 72.0
FOLDER_NAME = "stanch-spool"

log = logging.getLogger(__name__)
_KEY_NAME = "preview_spool_key"
_NONCE_BYTES = 12
_SPOOL_ID = re.compile(r"[0-9a-f]{32}")


class SpoolError(LookupError):
    """A spooled preview cannot be read: missing, expired, or altered (it fails to decrypt)."""


def preview_source(media: bytes) -> bytes | None:
    """A JPEG of the picture at most ``SOURCE_SIZE`` a side, a bundle of a video's keyframes each
    reduced the same way (``keyframe``), or None if ``media`` is neither."""
    if _is_video(media):
        return _keyframes_source(media)
    try:
        with Image.open(io.BytesIO(media)) as image:
            if image.width * image.height > MAX_PREVIEW_PIXELS:
                return None
            image.seek(0)
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return _reduced(picture)


def _reduced(picture: Image.Image) -> bytes:
    picture.thumbnail((SOURCE_SIZE, SOURCE_SIZE))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _is_video(media: bytes) -> bool:
    try:
        return sniff_format(media).container == "video"
    except MediaError:
        return False


_BUNDLE = b"STNKEYF1"
"""The start of a keyframe bundle: then the frame count (1 byte), each frame's length (4 bytes, big
endian), then the JPEGs one after the other."""


def _keyframes_source(media: bytes) -> bytes | None:
    try:
        frames = video_keyframes(media, sniff_format(media), MAX_KEYFRAMES)
    except MediaError:
        return None
    jpegs = [_reduced(Image.fromarray(rgb)) for _, rgb in frames]
    if not jpegs:
        return None
    head = _BUNDLE + bytes([len(jpegs)]) + b"".join(len(j).to_bytes(4, "big") for j in jpegs)
    return head + b"".join(jpegs)


def keyframe_count(source: bytes) -> int | None:
    """How many keyframes a preview source holds (None: it is a single picture)."""
    return source[len(_BUNDLE)] if source.startswith(_BUNDLE) and len(source) > len(_BUNDLE) else None


def keyframe(source: bytes, index: int) -> bytes:
    """Keyframe ``index`` of a bundle (a picture's source is its own frame 0); IndexError otherwise."""
    count = keyframe_count(source)
    if count is None:
        if index != 0:
            raise IndexError(index)
        return source
    if not 0 <= index < count:
        raise IndexError(index)
    start = len(_BUNDLE) + 1
    lengths = [int.from_bytes(source[start + 4 * i : start + 4 * i + 4], "big") for i in range(count)]
    offset = start + 4 * count + sum(lengths[:index])
    return source[offset : offset + lengths[index]]


@dataclass(frozen=True)
class Spool:
    """A spool folder and its key: ``put`` and ``get`` one preview source by spool id."""

    folder: Path
    key: bytes

    def put(self, item_id: str, source: bytes) -> str:
        """Encrypt and write ``source`` (file 0600 in a 0700 folder); returns the new spool id."""
        if not self.folder.exists():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
        spool_id = secrets.token_hex(16)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = nonce + AESGCM(self.key).encrypt(nonce, source, _associated(spool_id, item_id))
        handle = os.open(self.folder / spool_id, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as file:
            file.write(sealed)
        return spool_id

    def get(self, spool_id: str, item_id: str) -> bytes:
        """The preview source, decrypted in memory, or ``SpoolError``."""
        try:
            sealed = self._path(spool_id).read_bytes()
            return AESGCM(self.key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:],
                                            _associated(spool_id, item_id))
        except (OSError, InvalidTag, ValueError):
            raise SpoolError(spool_id) from None

    def _path(self, spool_id: str) -> Path:
        return spool_file(self.folder, spool_id)


def spool_file(folder: Path, spool_id: str) -> Path:
    """The file of a spool id (ValueError for anything but 32 hex digits: no path tricks)."""
    if not _SPOOL_ID.fullmatch(spool_id):
        raise ValueError(f"not a spool id: {spool_id!r}")
    return folder / spool_id


def delete_preview(folder: Path, spool_id: str) -> None:
    """Remove a preview; no key is needed, and nothing happens if it is already gone."""
    spool_file(folder, spool_id).unlink(missing_ok=True)


def expire_previews(folder: Path, hours: float, now: float | None = None) -> int:
    """Delete spool files older than ``hours`` (by modification time); returns how many."""
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - hours * 3600
    removed = 0
    for path in folder.iterdir():
        if _SPOOL_ID.fullmatch(path.name) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _associated(spool_id: str, item_id: str) -> bytes:
    return f"{spool_id}\n{item_id}".encode("utf-8", "surrogatepass")


def spool_hours(environ: Mapping[str, str] = os.environ) -> float:
    """``STANCH_SPOOL_HOURS`` (default 72), or ValueError saying what is wrong."""
    return hours_setting(environ, "STANCH_SPOOL_HOURS", SPOOL_HOURS)


def open_spool(session: Session, *, create: bool = True,
               environ: Mapping[str, str] = os.environ) -> Spool | None:
    """The configured spool; None when ``create`` is false and no key exists yet (nothing spooled)."""
    key = _configured_key(environ) or (
        stored_or_new_secret(session, _KEY_NAME) if create else stored_secret(session, _KEY_NAME)
    )
    return Spool(spool_folder(session, environ), key) if key is not None else None


def _configured_key(environ: Mapping[str, str]) -> bytes | None:
    text = environ.get("STANCH_SPOOL_KEY", "").strip()
    if not text:
        return None
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise ValueError("STANCH_SPOOL_KEY must be 32 bytes written as 64 hex digits or in base64 "
                         "(for example: python -c 'import secrets; print(secrets.token_hex(32))')")
    return key


def spool_folder(session: Session, environ: Mapping[str, str] = os.environ) -> Path:
    """``STANCH_SPOOL_DIR``, or ``stanch-spool`` beside a SQLite database or in the working directory."""
    configured = environ.get("STANCH_SPOOL_DIR")
    if configured:
        return Path(configured)
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / FOLDER_NAME
    return Path.cwd() / FOLDER_NAME


def spool_preview(session: Session, item: RequestItem, source: bytes) -> None:
    """Keep ``source`` as ``item``'s preview. A spool that cannot be written (a full disk, a folder of
    the wrong owner) is logged and the item kept without a preview: locating must not fail for it."""
    spool = open_spool(session)
    assert spool is not None
    try:
        item.spool_id = spool.put(item.item_id, source)
        item.preview_frames = keyframe_count(source)
    except OSError as error:
        log.error("the preview of item %s could not be spooled in %s: %s", item.item_id, spool.folder, error)


def drop_previews(session: Session, request: TakedownRequest, *, keep_pending: bool = False) -> int:
    """Delete every spooled preview of ``request``'s items (but, with ``keep_pending``, those of copies
    still on the review list); returns how many rows pointed at one."""
    items = [i for i in session.scalars(select(RequestItem).where(RequestItem.request_id == request.id,
                                                                  RequestItem.spool_id.is_not(None)))
             if not (keep_pending and i.review == "pending")]
    folder = spool_folder(session) if items else None
    for item in items:
        if folder is not None and item.spool_id is not None:
            delete_preview(folder, item.spool_id)
        item.spool_id = item.preview_frames = None
    return len(items)


def drop_preview(session: Session, item: RequestItem) -> None:
    """Delete one item's spooled preview (a copy decided on its own)."""
    if item.spool_id is not None:
        delete_preview(spool_folder(session), item.spool_id)
    item.spool_id = item.preview_frames = None


def spool_ids(session: Session, request_id: int) -> dict[str, str]:
    """The spool id of each of a request's items that has a spooled preview, by item id."""
    rows = session.execute(select(RequestItem.item_id, RequestItem.spool_id).where(
        RequestItem.request_id == request_id, RequestItem.spool_id.is_not(None)))
    return {item_id: spool_id for item_id, spool_id in rows if spool_id is not None}
