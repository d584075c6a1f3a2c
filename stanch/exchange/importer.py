"""Importing a hash list into a bank, in one transaction.

The file is read as a stream and written a batch at a time inside the caller's transaction. A bad
line or record is quarantined: left out, counted and reported with where and why
(``ImportSummary.quarantined``), while every good one goes in; only a file that cannot be read at all
raises ``FormatError`` (and the caller's rollback leaves the bank as it was). An ``imports`` row
records the list's source, format and trust; every entry points at it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from sqlalchemy.orm import Session

from stanch.bodies import BodyError, parse_json
from stanch.exchange import hma, jsonl, pdq_lines, pytx_lines, stopncii
from stanch.exchange.records import FormatError, Item, Quarantined, Skip, Withdrawal
from stanch.store import Bank, EntryWriter, NewEntry, start_import

Parser = Callable[[Iterable[str], str, "str | None"], Iterator[tuple[str, Item]]]
PARSERS: dict[str, Parser] = {
    "pdq": pdq_lines.parse,
    "jsonl": jsonl.parse,
    "stopncii": stopncii.parse,
    "hma": hma.parse,
    "pytx": pytx_lines.parse,
}
MAX_REASONS = 1_000
"""Quarantined records reported one by one; beyond this only the count grows."""
FORMATS = ("auto", *PARSERS)


@dataclass
class ImportSummary:
    """What an import did, for people and scripts."""

    import_id: int
    bank: str
    source: str
    format: str
    trust: str
    added: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    """Items the bank already held under the same external id."""
    not_held: int = 0
    """Withdrawals of items the bank did not hold."""
    skipped: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    """Bad lines or records left out (the good ones went in)."""
    reasons: list[str] = field(default_factory=list)
    """``"line 12: why"`` for the first ``MAX_REASONS`` quarantined records."""


def import_lines(
    session: Session,
    bank: Bank,
    lines: Iterable[str],
    *,
    source: str,
    format: str = "auto",
    trust: str | None = None,
) -> ImportSummary:
    """Import a hash list given as lines of text. The caller commits (or rolls back on error)."""
    lines = iter(lines)
    if format == "auto":
        head = list(_take_until_content(lines))
        format = detect_format(head)
        lines = chain(head, lines)
    parser = PARSERS.get(format)
    if parser is None:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    record = start_import(session, bank, source=source, format=format, trust=trust)
    writer = EntryWriter(session, bank, import_id=record.id, trust=record.trust)
    skipped: Counter[str] = Counter()
    quarantined: list[Quarantined] = []
    count = 0
    for _where, item in parser(lines, source, record.trust):
        if isinstance(item, NewEntry):
            writer.add(item)
        elif isinstance(item, Withdrawal):
            writer.withdraw_external(item.external_list, item.external_id, item.reason)
        elif isinstance(item, Skip):
            skipped[item.reason] += 1
        elif isinstance(item, Quarantined):
            count += 1
            if len(quarantined) < MAX_REASONS:
                quarantined.append(item)
    result = writer.finish()
    record.added, record.withdrawn = len(result.added_ids), len(result.withdrawn_ids)
    session.flush()
    return ImportSummary(
        import_id=record.id,
        bank=bank.name,
        source=source,
        format=format,
        trust=record.trust,
        added=record.added,
        withdrawn=record.withdrawn,
        unchanged=result.unchanged,
        not_held=result.absent,
        skipped=dict(skipped),
        quarantined=count,
        reasons=[f"{q.where}: {q.reason}" for q in quarantined],
    )


def _take_until_content(lines: Iterator[str]) -> Iterator[str]:
    """Lines up to and including the first that is not blank or a comment (what detection reads)."""
    for line in lines:
        yield line
        if _is_content(line):
            return


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def detect_format(head: list[str]) -> str:
    """Guess a list's format from its first non-blank line; ``FormatError`` when it cannot tell."""
    first = next((line.strip() for line in head if _is_content(line)), "")
    where = f"line {len(head)}"
    if not first:
        raise FormatError("line 1", "the file is empty")
    if first.startswith(("{", "[")):
        try:
            value = parse_json(first)
        except BodyError:
            return "stopncii"  # a multi-line JSON document: only StopNCII files come that way
        if isinstance(value, list) or (isinstance(value, dict) and _is_stopncii(value)):
            return "stopncii"
        return "jsonl"
    if pytx_lines.looks_like(first):
        return "pytx"
    fields = first.split(",")
    if len(fields) <= 3 and len(fields[0].strip()) == 64:
        return "pdq"
    if len(fields) >= 4 or "signal_type" in first.lower():
        return "hma"
    raise FormatError(where, "cannot tell the format of this file: name it with --format")


def _is_stopncii(value: dict[str, object]) -> bool:
    return "hashRecords" in value or "signalType" in value
