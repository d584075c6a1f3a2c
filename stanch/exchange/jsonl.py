"""Stanch JSON lines: what ``stanch hash`` prints, and what ``stanch bank export`` writes.

Import takes, per line, a full signals record (``{"kind": "image", "pdq", "pdq_dihedral", ...}`` as
``stanch hash`` writes it) or a partial one holding only some hashes (``{"pdq"}``, ``{"md5"}``, ...:
what another Stanch exports for entries it got from a hash list). ``source`` (or the file name in
``path``) becomes the entry's source; ``id`` becomes its external id in the list being imported,
unless the record already names its origin with ``external_list`` and ``external_id``.

Export writes one object per entry: ``{"id", "source", ...signals, "trust", "created"}`` plus
``external_list``, ``external_id``, ``request_id`` and ``expires`` when they are set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import PurePath
from typing import Any, TextIO

from stanch.bodies import BodyError, parse_json
from stanch.exchange.records import FormatError, Item, Quarantined, guard
from stanch.signals import ImageSignals, PdqVariant, VideoSignals, signals_from_record, signals_record
from stanch.signals.pdq import DIHEDRAL_NAMES
from stanch.signals.types import FrameHash
from stanch.store import NewEntry, Provenance, StoredEntry, entry_from_hashes, entry_from_signals


def parse(lines: Iterable[str], list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    """Entries from JSON lines; a bad line is quarantined."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = parse_json(line)
        except BodyError as error:
            yield where, Quarantined(where, f"not JSON ({getattr(error, 'msg', error)})")
            continue
        yield where, guard(_entry, record, where, list_name, trust)


def _entry(record: Any, where: str, list_name: str, trust: str | None) -> NewEntry:
    if not isinstance(record, dict):
        raise FormatError(where, "each line must be a JSON object")
    if "error" in record:
        raise FormatError(where, f"stanch hash could not hash {record.get('path')!r}: {record['error']}")
    provenance = _provenance(record, where, list_name, trust)
    try:
        if "pdq_dihedral" in record or "vpdq" in record:
            return entry_from_signals(signals_from_record(record), provenance)
        return entry_from_hashes(
            pdq=record.get("pdq"),
            quality=_optional_quality(record.get("quality")),
            md5=record.get("md5"),
            sha256=record.get("sha256"),
            kind="video" if record.get("kind") == "video" else "image",
            provenance=provenance,
        )
    except ValueError as error:
        raise FormatError(where, str(error)) from None


def _provenance(record: dict[str, Any], where: str, list_name: str, trust: str | None) -> Provenance:
    source = record.get("source")
    if source is None and isinstance(record.get("path"), str):
        source = PurePath(record["path"]).name
    external_list, external_id = record.get("external_list"), record.get("external_id")
    if not (external_list and external_id) and record.get("id") is not None:
        external_list, external_id = list_name, str(record["id"])
    expires = record.get("expires")
    try:
        expires_at = datetime.fromisoformat(expires) if isinstance(expires, str) else None
    except ValueError:
        raise FormatError(where, f'"expires" must be an ISO 8601 time, got {expires!r:.40}') from None
    if expires_at is not None and expires_at.tzinfo is None:
        raise FormatError(where, '"expires" needs a time zone (e.g. ...Z or +00:00)')
    return Provenance(
        source=str(source) if source is not None else list_name,
        external_list=str(external_list) if external_list else None,
        external_id=str(external_id) if external_id else None,
        expires=expires_at,
        trust=trust,
    )


def _optional_quality(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError('"quality" must be a whole number from 0 to 100')
    return value


def write(entries: Iterable[StoredEntry], out: TextIO) -> tuple[int, int]:
    """One JSON object per entry; returns (written, skipped=0)."""
    written = 0
    for stored in entries:
        out.write(json.dumps(export_record(stored), separators=(",", ":")) + "\n")
        written += 1
    return written, 0


def export_record(stored: StoredEntry) -> dict[str, Any]:
    """The JSON object of one stored entry: full signals when it has them, else the hashes it has."""
    e = stored.entry
    record: dict[str, Any] = {"id": e.id, "source": e.source}
    signals = _full_signals(stored)
    if signals is not None:
        record.update(signals_record(signals))
    else:
        record["kind"] = e.kind
        record.update({k: v for k, v in (("md5", e.md5), ("sha256", e.sha256)) if v is not None})
        if e.pdq is not None:
            record["pdq"] = e.pdq.hex()
            if e.quality is not None:
                record["quality"] = e.quality
    record["trust"] = e.trust
    record["created"] = e.created.isoformat()
    optional = {
        "external_list": e.external_list,
        "external_id": e.external_id,
        "request_id": e.request_id,
        "expires": e.expires.isoformat() if e.expires else None,
        "withdrawn_at": e.withdrawn_at.isoformat() if e.withdrawn_at else None,
    }
    record.update({k: v for k, v in optional.items() if v is not None})
    return record


def _full_signals(stored: StoredEntry) -> ImageSignals | VideoSignals | None:
    """Rebuild the signals ``stanch hash`` gave, when everything it gave was stored."""
    e = stored.entry
    if e.md5 is None or e.sha256 is None:
        return None
    if e.kind == "video":
        if not stored.frames or e.duration is None:
            return None
        frames = tuple(
            FrameHash(f.pdq.hex(), f.quality, f.ts, tuple(PdqVariant(v.role, v.pdq.hex(), v.quality or 0)
                                                          for v in f.views))
            for f in stored.frames
        )
        return VideoSignals(md5=e.md5, sha256=e.sha256, frames=frames, duration=e.duration)
    by_role = {h.role: h for h in stored.hashes}
    if e.pdq is None or e.quality is None or not all(name in by_role for name in DIHEDRAL_NAMES):
        return None
    variants = tuple(
        PdqVariant(h.role, h.pdq.hex(), h.quality if h.quality is not None else 0)
        for h in stored.hashes
        if h.role not in DIHEDRAL_NAMES
    )
    return ImageSignals(
        md5=e.md5,
        sha256=e.sha256,
        pdq=e.pdq.hex(),
        quality=e.quality,
        pdq_dihedral=tuple(by_role[name].pdq.hex() for name in DIHEDRAL_NAMES),
        variants=variants,
    )
