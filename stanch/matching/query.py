"""What an upload is looked up by: its PDQ hashes (each named by the view it hashes) and its digests.

The choice of hashes is the PDQ signal type's (``stanch.signals.registry.PdqSignal.query_views``,
Stanch's matching rule, defined there once); this module only names them, so a verdict can say which
view of the upload matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stanch.signals.pdq import parse_pdq_hex
from stanch.signals.records import signals_from_record
from stanch.signals.registry import PdqSignal
from stanch.signals.types import ImageSignals, VideoSignals


@dataclass(frozen=True)
class ImageQuery:
    """The lookups of one still image: ``hashes`` are ``(view, 64 hex digits)``; digests are hex.

    ``quality`` is None when the caller sent a bare hash without it.
    """

    hashes: tuple[tuple[str, str], ...] = ()
    md5: str | None = None
    sha256: str | None = None
    quality: int | None = None


def image_query(signals: ImageSignals) -> ImageQuery:
    """The lookups of a hashed image: ``query_hashes`` (plain and robustness views) and its digests."""
    names = {v.pdq: v.name for v in signals.variants}
    names[signals.pdq] = "original"
    hashes = tuple((names.get(h, "original"), h) for h in PdqSignal.query_views(signals))
    return ImageQuery(hashes, signals.md5, signals.sha256, signals.quality)


def hash_query(
    pdq: str | None = None, quality: int | None = None, md5: str | None = None, sha256: str | None = None
) -> ImageQuery:
    """The lookups of loose hashes a client sent: a PDQ hash of quality below 50 is not looked up."""
    hashes: tuple[tuple[str, str], ...] = ()
    if pdq is not None and PdqSignal.usable(quality):
        hashes = (("original", parse_pdq_hex(pdq).hex()),)
    return ImageQuery(hashes, md5, sha256, quality)


Query = ImageQuery | VideoSignals
"""One lookup: an image's (or loose hashes') ``ImageQuery``, or a video's signals."""


def media_query(signals: ImageSignals | VideoSignals) -> Query:
    """The lookup of a hashed file: an image's ``ImageQuery``; a video is looked up by its signals."""
    return image_query(signals) if isinstance(signals, ImageSignals) else signals


def query_from_record(record: dict[str, Any]) -> Query:
    """The lookup of a stored hash object: a ``stanch hash`` record (``"kind"``) or bare hashes."""
    if "kind" in record:
        return media_query(signals_from_record(record))
    return hash_query(record.get("pdq"), record.get("quality"), record.get("md5"), record.get("sha256"))
