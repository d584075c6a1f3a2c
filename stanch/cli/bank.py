"""``stanch bank create|list|update|add|import|export|remove``: banks of hashes from the command line.

Each command is one transaction on ``STANCH_DATABASE_URL`` (migrated first): it either happens
entirely or, on any error, not at all. Results are JSON lines on standard output; problems go to
standard error with exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from stanch.cli.audit import cli_actor
from stanch.cli.choices import BANK_KINDS, EXPORT_FORMATS, IMPORT_FORMATS, TRUSTS, choice
from stanch.cli.hash import hash_files
from stanch.cli.transaction import cli_write

if TYPE_CHECKING:
    from stanch.store import Bank

    Trust = str
    BankKind = str
    ImportFormat = str
    ExportFormat = str
else:
    Trust, BankKind = choice(TRUSTS), choice(BANK_KINDS)
    ImportFormat, ExportFormat = choice(IMPORT_FORMATS), choice(EXPORT_FORMATS)

bank_app = typer.Typer(help="Banks of hashes: create, fill, exchange, withdraw.", no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _print(record: dict[str, Any]) -> None:
    typer.echo(json.dumps(record))


def _shown(bank: Bank, entries: int) -> dict[str, Any]:
    """A bank as printed: the store's record with its auto-remove rule written out."""
    from stanch.matching.auto_remove import rule_text
    from stanch.store import bank_record

    return {**bank_record(bank, entries), "auto_remove": rule_text(bank.auto_remove)}


_AUTO_REMOVE_HELP = ("Which desk copies are removed at once (the rest go to a reviewer): md5, sha256, "
                     "pdq<=N, vpdq<=N, comma-separated, or none. Default md5,sha256,pdq<=10.")


def _refusals() -> tuple[type[Exception], ...]:
    """The library's refusals: a message and exit status 1, nothing stored."""
    from stanch.exchange import FormatError
    from stanch.store import BankExists, UnknownBank, UnknownEntry

    return (UnknownBank, UnknownEntry, BankExists, FormatError, ValueError)


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    """The numbers of an import's summary, as its audit event keeps them."""
    return {k: v for k, v in summary.items() if isinstance(v, int) and not isinstance(v, bool)}


@bank_app.command("create")
def create(
    name: str = typer.Argument(..., help="Bank name: letters, digits, '_', '.', '-'."),
    threshold: int = typer.Option(31, "--threshold", help="Match distance in bits (PDQ: 31 is Meta's)."),
    trust: Trust = typer.Option("block", "--trust", help="What a match leads to: block or review."),
    kind: BankKind = typer.Option("match", "--kind", help=(
        "match; allow for content never to action; minor for imagery of people under 18 (matches as match)."),
    ),
    auto_remove: str | None = typer.Option(None, "--auto-remove", help=_AUTO_REMOVE_HELP),
) -> None:
    """Create a bank."""
    from stanch.desk.audit import record as audit
    from stanch.matching.auto_remove import checked_rule, rule_text
    from stanch.store import create_bank

    with cli_write(*_refusals()) as session:
        rule = checked_rule(auto_remove) if auto_remove is not None else None
        bank = create_bank(session, name, threshold=threshold, trust=trust, kind=kind, auto_remove=rule)
        audit(session, cli_actor(), "bank.create", ("bank", bank.name),
               {"threshold": bank.threshold, "trust": bank.trust, "kind": bank.kind,
                "auto_remove": rule_text(bank.auto_remove)})
        _print(_shown(bank, 0))


@bank_app.command("update")
def update(
    name: str = typer.Argument(..., help="The bank."),
    threshold: int | None = typer.Option(None, "--threshold", help="Match distance in bits."),
    trust: Trust | None = typer.Option(None, "--trust", help="What a match leads to: block or review."),
    auto_remove: str | None = typer.Option(None, "--auto-remove", help=_AUTO_REMOVE_HELP),
) -> None:
    """Change a bank's threshold, trust or auto-remove rule (the case bank's too: create it first with
    ``stanch bank create cases`` to set its rule before the first removal)."""
    from stanch.desk.audit import record as audit
    from stanch.matching.auto_remove import checked_rule, rule_text
    from stanch.store import active_entry_counts, update_bank

    with cli_write(*_refusals()) as session:
        rule = checked_rule(auto_remove) if auto_remove is not None else None
        bank = update_bank(session, name, threshold=threshold, trust=trust, auto_remove=rule)
        audit(session, cli_actor(), "bank.update", ("bank", bank.name),
               {"threshold": bank.threshold, "trust": bank.trust, "auto_remove": rule_text(bank.auto_remove)})
        _print(_shown(bank, active_entry_counts(session).get(bank.id, 0)))


@bank_app.command("list")
def list_command() -> None:
    """One JSON line per bank, with its count of active entries."""
    from stanch.store import active_entry_counts, list_banks, open_database

    db = open_database()
    try:
        with db.read() as session:
            counts = active_entry_counts(session)
            for bank in list_banks(session):
                _print(_shown(bank, counts.get(bank.id, 0)))
    finally:
        db.dispose()


@bank_app.command("add")
def add(
    name: str = typer.Argument(..., help="The bank."),
    paths: list[Path] = typer.Argument(..., help="Media files or folders (folders are recursed)."),
    trust: Trust | None = typer.Option(None, "--trust", help="block or review (default: the bank's)."),
) -> None:
    """Hash media for a bank (every robustness view) and add one entry per file, its file name kept as
    the entry's source.

    All or nothing: if any file cannot be hashed, nothing is added and each problem is reported.
    """
    from stanch.files import media_files
    from stanch.signals import signals_from_record
    from stanch.store import Provenance, add_entries, entry_from_signals, get_bank

    files = media_files(paths)
    records = list(hash_files(files, purpose="bank"))
    errors = [r for r in records if "error" in r]
    for record in errors:
        typer.echo(f"error: {record['path']}: {record['error']}", err=True)
    if errors:
        _fail(f"{len(errors)} of {len(records)} files could not be hashed; nothing was added")
    entries = [
        entry_from_signals(signals_from_record(r), Provenance(source=Path(r["path"]).name)) for r in records
    ]
    with cli_write(*_refusals()) as session:
        bank = get_bank(session, name)
        result = add_entries(session, bank, entries, trust=trust)
        for record, entry_id in zip(records, result.added_ids, strict=True):
            _print({"id": entry_id, "bank": bank.name, "source": Path(record["path"]).name})


@bank_app.command("import")
def import_command(
    name: str = typer.Argument(..., help="The bank."),
    file: Path = typer.Argument(..., help="The hash list ('-' reads standard input)."),
    format: ImportFormat = typer.Option("auto", "--format", help="The list's format (auto: recognise it)."),
    source: str | None = typer.Option(None, "--source", help="Name of the list (default: the file name)."),
    trust: Trust | None = typer.Option(None, "--trust", help="block or review (default: the bank's)."),
) -> None:
    """Import a hash list in one transaction; bad lines are quarantined (listed, exit status 1), the
    good ones go in."""
    from stanch.desk.audit import record as audit
    from stanch.exchange import import_lines
    from stanch.store import get_bank

    list_name = source or ("stdin" if str(file) == "-" else file.name)
    with cli_write(*_refusals()) as session, _open_text(file) as lines:
        bank = get_bank(session, name)
        summary = import_lines(session, bank, lines, source=list_name, format=format, trust=trust)
        audit(session, cli_actor(), "bank.import", ("bank", bank.name),
               {"source": list_name, "format": summary.format, "trust": summary.trust,
                **_counts(summary.__dict__)})
        _print({k: v for k, v in summary.__dict__.items() if k != "reasons"})
    if summary.quarantined:
        for reason in summary.reasons:
            typer.echo(f"quarantined: {reason}", err=True)
        _fail(f"{summary.quarantined} records were quarantined (left out); the others were imported")


@contextmanager
def _open_text(file: Path) -> Iterator[Any]:
    if str(file) == "-":
        yield sys.stdin
        return
    try:
        handle = file.open(encoding="utf-8", newline="")
    except OSError as error:
        _fail(f"cannot read {file}: {error.strerror or error}")
    try:
        with handle:
            yield handle
    except UnicodeDecodeError:
        _fail(f"{file} is not UTF-8 text; nothing was imported")


@bank_app.command("export")
def export(
    name: str = typer.Argument(..., help="The bank."),
    format: ExportFormat = typer.Option("jsonl", "--format", help="The format written."),
) -> None:
    """Write the bank's active entries to standard output (JSON lines: {"id", "source", ...signals})."""
    from stanch.exchange import export_bank
    from stanch.store import UnknownBank, get_bank, open_database

    db = open_database()
    try:
        with db.read() as session:
            bank = get_bank(session, name)
            _written, skipped = export_bank(session, bank, sys.stdout, format=format)
    except UnknownBank as error:
        _fail(str(error))
    finally:
        db.dispose()
    if skipped:
        typer.echo(f"{skipped} entries have no {format} form and were left out", err=True)


@bank_app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The bank."),
    entry_id: int = typer.Argument(..., help="The entry's id (from add, import or export)."),
) -> None:
    """Withdraw an entry: it stops matching at once (it stays on record, marked withdrawn)."""
    from stanch.desk.audit import record as audit
    from stanch.store import get_bank, withdraw_entry

    with cli_write(*_refusals()) as session:
        entry = withdraw_entry(session, get_bank(session, name), entry_id)
        assert entry.withdrawn_at is not None
        audit(session, cli_actor(), "entry.withdraw", ("entry", entry.id),
               {"bank": name, "reason": entry.withdrawn_reason})
        _print({"id": entry.id, "bank": name, "withdrawn_at": entry.withdrawn_at.isoformat()})


@bank_app.command("disable")
def disable(
    name: str = typer.Argument(..., help="The bank."),
    entry_id: int = typer.Argument(..., help="The entry's id."),
    reason: str = typer.Option("disabled by an admin", help="Why (kept with the entry)."),
) -> None:
    """Stop an entry matching without withdrawing it (it stays active on record; ``enable`` undoes it)."""
    from stanch.clock import utcnow
    from stanch.desk.audit import record as audit
    from stanch.store import get_bank
    from stanch.store.entry_stats import disable_entry

    with cli_write(*_refusals()) as session:
        entry = disable_entry(session, get_bank(session, name), entry_id, reason=reason, now=utcnow())
        assert entry.disabled_at is not None
        audit(session, cli_actor(), "entry.disable", ("entry", entry.id),
              {"bank": name, "reason": reason[:200]})
        _print({"id": entry.id, "bank": name, "disabled_at": entry.disabled_at.isoformat()})


@bank_app.command("enable")
def enable(
    name: str = typer.Argument(..., help="The bank."),
    entry_id: int = typer.Argument(..., help="The entry's id."),
) -> None:
    """Let an entry that ``disable`` switched off match again."""
    from stanch.desk.audit import record as audit
    from stanch.store import get_bank
    from stanch.store.entry_stats import enable_entry

    with cli_write(*_refusals()) as session:
        entry = enable_entry(session, get_bank(session, name), entry_id)
        audit(session, cli_actor(), "entry.enable", ("entry", entry.id), {"bank": name})
        _print({"id": entry.id, "bank": name, "disabled_at": None})


def register(app: typer.Typer) -> None:
    app.add_typer(bank_app, name="bank")
