"""Hasher-Matcher-Actioner (Meta's HMA) hash lists as CSV.

HMA has no single export file, so two CSV shapes it uses are read:

- its bank tables dumped with a header: ``bank_name,content_id,signal_type,signal_val`` (the columns
  of HMA's ``bank``, ``bank_content`` and ``content_signal`` tables; ``bank_name`` optional). Rows of
  one ``content_id`` that follow each other form one entry; signal types ``pdq`` and ``video_md5``
  are used, others (``vpdq``, ``video_tmk_pdqf``, ...) are counted as skipped.
- the headerless ThreatExchange data files in HMA's ``sample_data``: ``hash,id,timestamp,tags``
  (or ``hash,id,descriptor_id,timestamp,tags``), a 64-digit PDQ or a 32-digit MD5 per row; tags are
  space-separated and ``media_type_video`` marks a video MD5.

``content_id`` (or ``id``) becomes the entry's external id. Export writes the headered shape, which
HMA's curation API (``POST /c/bank/<name>/signal`` with ``{"pdq": ...}``) can be fed from.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TextIO

from stanch.exchange.records import FormatError, Item, Quarantined, Skip, guard
from stanch.store import NewEntry, Provenance, StoredEntry, entry_from_hashes

HEADER = ("bank_name", "content_id", "signal_type", "signal_val")
_VALUE_COLUMNS = ("signal_val", "signal_value")


def parse(lines: Iterable[str], list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    """Entries from an HMA CSV; a bad row is quarantined (``FormatError`` for a header without the
    columns it needs)."""
    rows = ((number, row) for number, row in enumerate(csv.reader(lines), 1) if any(c.strip() for c in row))
    first = next(rows, None)
    if first is None:
        return
    columns = [c.strip().lower() for c in first[1]]
    if "signal_type" in columns:
        yield from _tables(columns, rows, list_name, trust)
    else:
        for at_line, cells in chain([first], rows):
            where = f"line {at_line}"
            yield where, guard(_data_file_row, cells, where, list_name, trust)


def _tables(
    columns: list[str], rows: Iterator[tuple[int, list[str]]], list_name: str, trust: str | None
) -> Iterator[tuple[str, Item]]:
    value_column = next((c for c in _VALUE_COLUMNS if c in columns), None)
    if "content_id" not in columns or value_column is None:
        raise FormatError("line 1", "an HMA header needs content_id, signal_type and signal_val")
    at = {name: columns.index(name) for name in ("content_id", "signal_type", value_column)}
    group: list[tuple[str, str, str]] = []  # (where, signal_type, value) of one content_id
    content_id = None
    for number, row in rows:
        where = f"line {number}"
        if len(row) < len(columns):
            yield where, Quarantined(where, f"expected {len(columns)} columns, got {len(row)}")
            continue
        row_id = row[at["content_id"]].strip()
        if not row_id:
            yield where, Quarantined(where, "content_id is empty")
            continue
        if group and row_id != content_id:
            yield from _content(group, content_id, list_name, trust)
            group = []
        content_id = row_id
        group.append((where, row[at["signal_type"]].strip(), row[at[value_column]].strip()))
    if group:
        yield from _content(group, content_id, list_name, trust)


def _content(
    group: list[tuple[str, str, str]], content_id: str | None, list_name: str, trust: str | None
) -> Iterator[tuple[str, Item]]:
    hashes: dict[str, str] = {}
    where = group[0][0]
    for row_where, signal_type, value in group:
        if signal_type == "pdq":
            hashes["pdq"] = value
        elif signal_type == "video_md5":
            hashes["md5"] = value
        else:
            yield row_where, Skip(f"HMA {signal_type or 'untyped'} signals (Stanch cannot match them)")
    if hashes:
        provenance = Provenance(
            source=list_name, external_list=list_name, external_id=content_id, trust=trust
        )
        kind = "image" if "pdq" in hashes else "video"
        yield where, guard(_entry, where, provenance, pdq=hashes.get("pdq"), md5=hashes.get("md5"), kind=kind)


def _data_file_row(row: list[str], where: str, list_name: str, trust: str | None) -> NewEntry:
    if len(row) not in (4, 5):
        raise FormatError(where, "expected hash,id,timestamp,tags (or a header naming signal_type)")
    value, indicator_id, tags = row[0].strip(), row[1].strip(), row[-1].split()
    if not indicator_id:
        raise FormatError(where, "the id column is empty")
    provenance = Provenance(source=list_name, external_list=list_name, external_id=indicator_id, trust=trust)
    if len(value) == 32:
        return _entry(where, provenance, md5=value, kind="video" if "media_type_video" in tags else "image")
    return _entry(where, provenance, pdq=value)


def _entry(
    where: str, provenance: Provenance, *, pdq: str | None = None, md5: str | None = None, kind: str = "image"
) -> NewEntry:
    try:
        return entry_from_hashes(pdq=pdq, md5=md5, kind=kind, provenance=provenance)
    except ValueError as error:
        raise FormatError(where, str(error)) from None


def write(entries: Iterable[StoredEntry], out: TextIO, bank_name: str) -> tuple[int, int]:
    """The headered CSV: a ``pdq`` row per image with a PDQ, a ``video_md5`` row per video with an
    MD5; returns (entries written, entries skipped)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    written = skipped = 0
    for stored in entries:
        e = stored.entry
        if e.kind == "image" and e.pdq is not None:
            writer.writerow((bank_name, e.id, "pdq", e.pdq.hex()))
        elif e.kind == "video" and e.md5 is not None:
            writer.writerow((bank_name, e.id, "video_md5", e.md5))
        else:
            skipped += 1
            continue
        written += 1
    return written, skipped
