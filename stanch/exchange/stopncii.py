"""StopNCII.org hash records, as its FetchHashes API returns them.

A record is ``{"signalType", "hashValue", "hashStatus", "caseNumbers", "lastModtimestamp", ...}``
(field names as in Meta's python-threatexchange StopNCII client). Accepted files: JSON lines, each a
record or a whole FetchHashes page (``{"hashRecords": [...], ...}``), or one JSON document that is a
page or a list of records.

StopNCII identifies a hash by (signalType, hashValue) and a later record replaces an earlier one, so
that pair is the entry's external id. ``hashStatus`` ``Withdrawn`` or ``Deleted`` means the person
withdrew their case: the entry is withdrawn here too. ``ImagePDQ`` becomes an image entry and
``VideoMD5`` a video entry matched by exact MD5; ``VideoTMK`` (TMK+PDQF, which Stanch does not
compute), ``Text`` and ``URL`` records are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from stanch.bodies import BodyError, parse_json
from stanch.exchange.records import FormatError, Item, Quarantined, Skip, Withdrawal, guard
from stanch.store import Provenance, entry_from_hashes

REMOVED = ("Withdrawn", "Deleted")
_USABLE = {"ImagePDQ": "image", "VideoMD5": "video"}


def parse(lines: Iterable[str], list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    """Items from StopNCII records; a bad line or record is quarantined (``FormatError`` only when the
    file is neither JSON lines nor one JSON document)."""
    lines = iter(lines)
    first = True
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = parse_json(line)
        except BodyError:
            if first:  # not JSON lines: the whole file is one (pretty-printed) JSON document
                yield from _document(line + "".join(lines), number, list_name, trust)
                return
            yield f"line {number}", Quarantined(f"line {number}", "not JSON")
            continue
        first = False
        yield from _records(value, f"line {number}", list_name, trust)


def _document(text: str, start: int, list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    try:
        value = parse_json(text)
    except BodyError as error:
        lineno, msg = getattr(error, "lineno", 1), getattr(error, "msg", str(error))
        raise FormatError(f"line {start + lineno - 1}", f"not JSON ({msg})") from None
    yield from _records(value, "record", list_name, trust)


def _records(value: Any, where: str, list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    if isinstance(value, dict) and "hashRecords" in value:
        value = value["hashRecords"]
    if isinstance(value, list):
        for index, record in enumerate(value, 1):
            here = f"{where} record {index}" if where != "record" else f"record {index}"
            yield here, guard(_item, record, here, list_name, trust)
    else:
        yield where, guard(_item, value, where, list_name, trust)


def _item(record: Any, where: str, list_name: str, trust: str | None) -> Item:
    if not isinstance(record, dict):
        raise FormatError(where, "a StopNCII hash record must be a JSON object")
    signal_type, hash_value = record.get("signalType"), record.get("hashValue")
    if not isinstance(signal_type, str) or not isinstance(hash_value, str) or not hash_value.strip():
        raise FormatError(where, 'a StopNCII record needs "signalType" and "hashValue" strings')
    status = record.get("hashStatus", "Active")
    if not isinstance(status, str):
        raise FormatError(where, '"hashStatus" must be a string')
    external_id = f"{signal_type}:{hash_value.strip().lower()}"
    if status in REMOVED:
        return Withdrawal(list_name, external_id, f"stopncii {status.lower()}")
    kind = _USABLE.get(signal_type)
    if kind is None:
        return Skip(f"StopNCII {signal_type} records (Stanch cannot match them)")
    provenance = Provenance(source=list_name, external_list=list_name, external_id=external_id, trust=trust)
    if kind == "image" and len(hash_value.strip()) == 32:
        raise FormatError(where, f"{signal_type} value has 32 hex digits where a PDQ has 64: a corrupt"
                                 " record (as in ThreatExchange issue #1609), not read as an MD5")
    try:
        if kind == "image":
            return entry_from_hashes(pdq=hash_value, provenance=provenance)
        return entry_from_hashes(md5=hash_value, kind="video", provenance=provenance)
    except ValueError as error:
        raise FormatError(where, f"{signal_type} {error}") from None
