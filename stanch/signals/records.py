"""Signals as JSON objects: the records ``stanch hash`` prints and banks import.

Images::

    {"kind": "image", "md5", "sha256", "pdq", "quality", "pdq_dihedral": [8 hex],
     "pdq_variants": [{"name", "pdq", "quality"}]}

Videos::

    {"kind": "video", "md5", "sha256", "duration",
     "vpdq": [{"pdq", "quality", "ts", "views": [{"name", "pdq", "quality"}]}]}

A frame's ``views`` (``stanch.signals.frame_views``) may be absent: records written before frames had
views, and vPDQ from other tools, still load.

Records arrive from files people edit and partners send, so ``signals_from_record`` checks every field
and says which one is wrong. Other keys (``path``, ``id``, ``source``...) are ignored.
"""

from __future__ import annotations

import math
from typing import Any

from stanch.signals.pdq import DIHEDRAL_NAMES, parse_pdq_hex
from stanch.signals.types import FrameHash, ImageSignals, MediaSignals, PdqVariant, VideoSignals

_HEX = frozenset("0123456789abcdef")


def signals_record(signals: MediaSignals) -> dict[str, Any]:
    """The JSON-ready record of image or video signals (without ``path``; callers add what they know)."""
    if isinstance(signals, ImageSignals):
        return {
            "kind": "image",
            "md5": signals.md5,
            "sha256": signals.sha256,
            "pdq": signals.pdq,
            "quality": signals.quality,
            "pdq_dihedral": list(signals.pdq_dihedral),
            "pdq_variants": _variants(signals.variants),
        }
    return {
        "kind": "video",
        "md5": signals.md5,
        "sha256": signals.sha256,
        "vpdq": [_frame_record(f) for f in signals.frames],
        "duration": signals.duration,
    }


def signals_from_record(record: Any) -> MediaSignals:
    """Validate a record as ``stanch hash`` writes it and return its signals.

    Raises ValueError naming the first field that is missing or malformed.
    """
    if not isinstance(record, dict):
        raise ValueError("a signals record must be a JSON object")
    kind = record.get("kind")
    if kind == "image":
        return _image(record)
    if kind == "video":
        return _video(record)
    raise ValueError(f'"kind" must be "image" or "video", got {kind!r}')


def _image(record: dict[str, Any]) -> ImageSignals:
    dihedral = _field(record, "pdq_dihedral", list)
    if len(dihedral) != len(DIHEDRAL_NAMES):
        raise ValueError(f'"pdq_dihedral" must list {len(DIHEDRAL_NAMES)} hashes, got {len(dihedral)}')
    variants = _list(record.get("pdq_variants", []), "pdq_variants")
    return ImageSignals(
        md5=_hex(record, "md5", 32),
        sha256=_hex(record, "sha256", 64),
        pdq=_pdq(record.get("pdq"), "pdq"),
        quality=_quality(record.get("quality"), "quality"),
        pdq_dihedral=tuple(_pdq(h, f"pdq_dihedral[{i}]") for i, h in enumerate(dihedral)),
        variants=tuple(_variant(v, f"pdq_variants[{i}]") for i, v in enumerate(variants)),
    )


def _video(record: dict[str, Any]) -> VideoSignals:
    frames = _field(record, "vpdq", list)
    if not frames:
        raise ValueError('"vpdq" must hold at least one frame hash')
    duration = _number(record.get("duration"), "duration")
    return VideoSignals(
        md5=_hex(record, "md5", 32),
        sha256=_hex(record, "sha256", 64),
        frames=tuple(_frame(f, i) for i, f in enumerate(frames)),
        duration=duration,
    )


def _frame_record(frame: FrameHash) -> dict[str, Any]:
    """A frame as JSON; ``views`` only when it has some, so view-less frames keep vPDQ's plain form."""
    record: dict[str, Any] = {"pdq": frame.pdq, "quality": frame.quality, "ts": frame.ts}
    if frame.views:
        record["views"] = _variants(frame.views)
    return record


def _variants(variants: tuple[PdqVariant, ...]) -> list[dict[str, Any]]:
    return [{"name": v.name, "pdq": v.pdq, "quality": v.quality} for v in variants]


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f'"{where}" must be a list')
    return value


def _variant(value: Any, where: str) -> PdqVariant:
    if not isinstance(value, dict):
        raise ValueError(f'"{where}" must be an object with "name", "pdq" and "quality"')
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f'"{where}.name" must be a non-empty string')
    return PdqVariant(name, _pdq(value.get("pdq"), f"{where}.pdq"),
                      _quality(value.get("quality"), f"{where}.quality"))


def _frame(value: Any, index: int) -> FrameHash:
    where = f"vpdq[{index}]"
    if not isinstance(value, dict):
        raise ValueError(f'"{where}" must be an object with "pdq", "quality" and "ts"')
    views = _list(value.get("views", []), f"{where}.views")
    return FrameHash(_pdq(value.get("pdq"), f"{where}.pdq"),
                     _quality(value.get("quality"), f"{where}.quality"),
                     _number(value.get("ts"), f"{where}.ts"),
                     tuple(_variant(v, f"{where}.views[{i}]") for i, v in enumerate(views)))


def _field(record: dict[str, Any], name: str, kind: type) -> Any:
    value = record.get(name)
    if not isinstance(value, kind):
        raise ValueError(f'"{name}" is missing or not a {kind.__name__}')
    return value


def _hex(record: dict[str, Any], name: str, length: int) -> str:
    value = record.get(name)
    if not isinstance(value, str) or len(value) != length or not _HEX.issuperset(value.lower()):
        raise ValueError(f'"{name}" must be {length} hex digits')
    return value.lower()


def _pdq(value: Any, where: str) -> str:
    try:
        return parse_pdq_hex(value).hex()
    except ValueError as error:
        raise ValueError(f'"{where}": {error}') from None


def _quality(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError(f'"{where}" must be a whole number from 0 to 100')
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f'"{where}" must be a number of seconds, 0 or more')
    return float(value)
