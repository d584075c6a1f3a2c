"""What hashing a file yields: the signals every later layer (bank, index, matching) works with.

These are plain, immutable values so that they cross process boundaries (worker pools, Ray) and turn
into the JSON lines of ``stanch hash`` without surprises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["query", "bank"]
"""What a picture is hashed for. ``"query"``: to be looked up (an upload, a sweep's item), so only the
views ``robust.query_hashes`` uses are computed. ``"bank"``: to be banked, so the bank-only views
(spare windows, really turned pictures; ``robust.bank_hashes``) are computed too. Banks are hashed
once, uploads all the time: the bank-only views are about three quarters of the views."""

PURPOSES: tuple[Purpose, ...] = ("query", "bank")


class MediaError(ValueError):
    """A file that cannot be hashed, with a reason a person can act on (too large, not media, ...).

    Decoders' own messages are often passed on, and some name Python objects
    (``cannot identify image file <_io.BytesIO object at 0x7f...>``): such names say nothing to the
    person and leak memory addresses, so they are replaced by "the file".
    """

    def __init__(self, message: str) -> None:
        super().__init__(_OBJECT_NAME.sub("the file", message))


_OBJECT_NAME = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


@dataclass(frozen=True)
class PdqVariant:
    """A PDQ hash of an altered view of the picture (border-trimmed, cropped, ...), named by that view.

    Variants stay plain PDQ hashes, so a partner's PDQ still compares with them.
    """

    name: str
    pdq: str
    quality: int


@dataclass(frozen=True)
class ImageSignals:
    """Signals of one still image: exact digests of the bytes and perceptual PDQ hashes of the picture.

    ``variants`` are the views computed for the purpose the picture was hashed for (``Purpose``): a
    picture hashed for a bank also holds the bank-only views (``spareN`` and the turned pictures), one
    hashed for a query does not. The record is the same shape either way, so either kind can be banked.
    """

    md5: str
    sha256: str
    pdq: str
    quality: int
    pdq_dihedral: tuple[str, ...]
    variants: tuple[PdqVariant, ...] = ()
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class FrameHash:
    """The PDQ hash of one video frame, with its quality and its time in seconds from the start.

    ``views`` are PDQ hashes of altered views of the frame (``stanch.signals.frame_views``: centre,
    trimmed, mirror ...) that let edited copies match; frames hashed elsewhere may have none.
    """

    pdq: str
    quality: int
    ts: float
    views: tuple[PdqVariant, ...] = ()


@dataclass(frozen=True)
class VideoSignals:
    """Signals of a video (or animated image): exact digests and vPDQ frame hashes in time order."""

    md5: str
    sha256: str
    frames: tuple[FrameHash, ...]
    duration: float
    kind: Literal["video"] = "video"


MediaSignals = ImageSignals | VideoSignals
