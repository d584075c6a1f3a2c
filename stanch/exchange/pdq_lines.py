"""Plain PDQ lists: one hash per line, as most partners and Meta's reference hasher write them.

Accepted lines: ``HASH``, ``HASH,QUALITY`` or ``HASH,QUALITY,NAME`` (the output of Meta's
``pdq-photo-hasher``); blank lines and lines starting with ``#`` are ignored. The hash itself is the
entry's external id, so importing the same list twice adds nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from stanch.exchange.records import FormatError, Item, content_lines, guard
from stanch.store import NewEntry, Provenance, StoredEntry, entry_from_hashes


def parse(lines: Iterable[str], list_name: str, trust: str | None) -> Iterator[tuple[str, Item]]:
    """Entries from PDQ lines; a bad line is quarantined."""
    for where, text in content_lines(lines):
        yield where, guard(_entry, text, where, list_name, trust)


def _entry(text: str, where: str, list_name: str, trust: str | None) -> NewEntry:
    fields = text.split(",") if "," in text else [text]
    if len(fields) > 3:
        raise FormatError(where, "expected HASH, HASH,QUALITY or HASH,QUALITY,NAME")
    quality = _quality(fields[1], where) if len(fields) > 1 else None
    name = fields[2].strip() if len(fields) > 2 and fields[2].strip() else list_name
    hex_hash = fields[0].strip().lower()
    provenance = Provenance(source=name, external_list=list_name, external_id=hex_hash, trust=trust)
    try:
        return entry_from_hashes(pdq=hex_hash, quality=quality, provenance=provenance)
    except ValueError as error:
        raise FormatError(where, str(error)) from None


def _quality(text: str, where: str) -> int:
    value = text.strip()
    if not value.isdigit() or int(value) > 100:
        raise FormatError(where, f"quality must be a whole number from 0 to 100, got {value!r:.40}")
    return int(value)


def write(entries: Iterable[StoredEntry], out: TextIO) -> tuple[int, int]:
    """One hash per line for entries that have a PDQ; returns (written, skipped)."""
    written = skipped = 0
    for stored in entries:
        if stored.entry.pdq is None:
            skipped += 1
            continue
        out.write(stored.entry.pdq.hex() + "\n")
        written += 1
    return written, skipped
