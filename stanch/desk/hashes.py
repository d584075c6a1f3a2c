"""The hashes a request or an item carries: checked once, stored as JSON, banked on removal.

Two forms are accepted, because people and platforms have different things to hand:

- bare hashes ``{"pdq", "quality", "md5", "sha256"}`` (any of them; what the browser or a partner
  computes), and
- a full ``stanch hash`` record (``{"kind": "image"|"video", ...}``), validated by
  ``stanch.signals.signals_from_record``.

Whether an item is a copy of a request's hashes is the matching rule's decision, through the case's
own engine (``stanch.desk.case_engine``), not something decided here.
"""

from __future__ import annotations

from typing import Any

from stanch.signals import signals_from_record, signals_record
from stanch.signals.registry import DIGESTS, PdqSignal
from stanch.store.entries import NewEntry, Provenance, entry_from_hashes, entry_from_signals

_BARE_FIELDS = ("pdq", "quality", "md5", "sha256")


def parse_hashes(value: Any, where: str) -> dict[str, Any]:
    """The normalised form of one hash object, or ValueError naming ``where`` and the problem."""
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object such as {{\"pdq\": \"<64 hex digits>\"}}")
    if "kind" in value:
        try:
            return signals_record(signals_from_record(value))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    unknown = sorted(set(value) - set(_BARE_FIELDS) - {"path", "source"})
    if unknown:
        raise ValueError(f"{where} has unknown fields {', '.join(unknown)}: give pdq, quality, md5, sha256, "
                         "or a full record as 'stanch hash' prints it")
    record: dict[str, Any] = {}
    if value.get("pdq") is not None:
        try:
            record["pdq"] = PdqSignal.validate(value["pdq"])
        except ValueError as error:
            raise ValueError(f"{where}.pdq: {error}") from None
    quality = value.get("quality")
    if quality is not None:
        if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
            raise ValueError(f"{where}.quality must be a whole number from 0 to 100")
        record["quality"] = quality
    for kind in DIGESTS:
        digest = value.get(kind.name)
        if digest is None:
            continue
        try:
            record[kind.name] = kind.validate(digest)
        except ValueError:
            raise ValueError(f"{where}.{kind.name} must be {kind.hex_length} hex digits") from None
    if not {"pdq", "md5", "sha256"} & set(record):
        raise ValueError(f"{where} holds no hash: give at least one of pdq, md5, sha256")
    return record


def new_entry(record: dict[str, Any], provenance: Provenance) -> NewEntry:
    """The bank entry for a stored hash object."""
    if "kind" in record:
        return entry_from_signals(signals_from_record(record), provenance)
    return entry_from_hashes(pdq=record.get("pdq"), quality=record.get("quality"), md5=record.get("md5"),
                             sha256=record.get("sha256"), provenance=provenance)
