"""``stanch exchange add|list|show|remove|fetch|status``: live exchange sources (StopNCII, NCMEC,
ThreatExchange) feeding banks.

Settings and status are JSON lines on standard output; problems go to standard error with exit status
1. Credentials are never given on the command line (where ``ps`` and shell history would see them):
``--credentials-env`` names an environment variable, ``--credentials-file`` a file, read at each fetch.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from stanch.cli.audit import cli_actor
from stanch.cli.choices import SOURCE_TYPES, TRUSTS
from stanch.cli.transaction import cli_write

if TYPE_CHECKING:
    from stanch.exchange.live.fetcher import FetchResult

exchange_app = typer.Typer(help="Live exchange: sources (StopNCII, NCMEC, ThreatExchange) that feed banks.",
                           no_args_is_help=True)


def _refused() -> tuple[type[Exception], ...]:
    """The library's refusals: a message and exit status 1, nothing stored."""
    from stanch.exchange.live.sources import SourceExists, UnknownSource
    from stanch.store import UnknownBank

    return (UnknownSource, UnknownBank, SourceExists, ValueError)


def _print(record: dict[str, Any]) -> None:
    typer.echo(json.dumps(record, default=str))


@exchange_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="A name for the source (letters, digits, '_', '.', '-')."),
    type: str = typer.Option(..., "--type", help=f"Source type: {', '.join(SOURCE_TYPES)}."),
    bank: str = typer.Option(..., "--bank", help="The bank the source feeds (create it first)."),
    credentials_env: str | None = typer.Option(
        None, "--credentials-env", help="Environment variable holding the credentials."
    ),
    credentials_file: str | None = typer.Option(
        None, "--credentials-file", help="File holding the credentials (readable by Stanch only)."
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="The API base URL, if not the default."),
    trust: str | None = typer.Option(None, "--trust", help=f"Trust of its entries: {', '.join(TRUSTS)}."),
    threshold: int | None = typer.Option(
        None, "--threshold", min=0, max=256, help="Set the bank's threshold."
    ),
    schedule: int = typer.Option(3600, "--schedule", min=60, help="Seconds between scheduled fetches."),
    feedback: bool = typer.Option(
        False, "--feedback/--no-feedback", help="Send reviewers' verdicts on its entries back to the source."
    ),
    push: bool = typer.Option(
        False, "--push/--no-push", help="Submit hashes of removed cases (requester consented) to the source."
    ),
    privacy_group: int | None = typer.Option(
        None, "--privacy-group", min=1, help="ThreatExchange: the privacy group's id (threatexchange only)."
    ),
) -> None:
    """Configure a source feeding a bank (credentials from a variable or a file, never stored)."""
    from stanch.desk.audit import record
    from stanch.exchange.live.sources import add_source, source_record

    with cli_write(*_refused()) as session:
        source = add_source(
            session, name, type=type, bank=bank, credentials_env=credentials_env,
            credentials_file=credentials_file, base_url=base_url, trust=trust, threshold=threshold,
            schedule_seconds=schedule, feedback=feedback, push=push, privacy_group=privacy_group,
        )  # fmt: skip
        shown = source_record(session, source)
        details = {k: shown[k] for k in ("type", "bank", "credentials", "trust", "schedule_seconds")}
        record(session, cli_actor(), "exchange.add", ("exchange", name), details)
        _print(shown)


@exchange_app.command("list")
def list_command() -> None:
    """Every source with its settings and status, one JSON line each."""
    from stanch.exchange.live.sources import list_sources, source_record

    with cli_write(*_refused()) as session:
        for source in list_sources(session):
            _print(source_record(session, source))


@exchange_app.command("show")
def show_command(
    name: str = typer.Argument(..., help="The source."),
    quarantine: int = typer.Option(20, "--quarantine", min=0, help="How many quarantined items to show."),
) -> None:
    """One source's settings, status and newest quarantined records and pages."""
    from stanch.exchange.live.sources import get_source, quarantine_records, source_record

    with cli_write(*_refused()) as session:
        source = get_source(session, name)
        kept = quarantine_records(session, source, quarantine)
        _print({**source_record(session, source), "quarantine": kept})


@exchange_app.command("status")
def status_command() -> None:
    """Per source: last fetch, checkpoint, counts added/withdrawn/quarantined, last error."""
    from stanch.exchange.live.sources import list_sources, source_record

    with cli_write(*_refused()) as session:
        for source in list_sources(session):
            record = source_record(session, source)
            _print({k: record[k] for k in ("name", "bank", "last_fetch_at", "last_success_at", "checkpoint",
                                           "counts", "failures", "last_error", "next_fetch_at", "fetching")})


@exchange_app.command("remove")
def remove_command(name: str = typer.Argument(..., help="The source.")) -> None:
    """Forget a source and its quarantine (the entries it brought stay in the bank)."""
    from stanch.desk.audit import record
    from stanch.exchange.live.sources import remove_source

    with cli_write(*_refused()) as session:
        remove_source(session, name)
        record(session, cli_actor(), "exchange.remove", ("exchange", name))
    _print({"removed": name})


@exchange_app.command("fetch")
def fetch_command(
    name: str | None = typer.Argument(None, help="The source (default: every enabled source)."),
    restart: bool = typer.Option(False, "--restart", help="Forget the checkpoint: fetch everything again."),
) -> None:
    """Fetch now, from each source's checkpoint (whatever its schedule or backoff says)."""
    from stanch.desk.audit import record
    from stanch.exchange.live.fetcher import fetch_source
    from stanch.exchange.live.sources import UnknownSource, list_sources
    from stanch.store import open_database

    db = open_database()
    failed = False
    try:
        with db.read() as session:
            names = [name] if name else [s.name for s in list_sources(session) if s.enabled]
        with db.write() as session:
            for each in names:
                record(session, cli_actor(), "exchange.fetch", ("exchange", each), {"restart": restart})
        for each in names:
            try:
                result = fetch_source(db, each, restart=restart)
            except UnknownSource as error:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(1) from None
            _print(_summary(result))
            if result.error or not result.fetched:
                failed = True
                reason = result.error or "another process is fetching it now"
                typer.echo(f"error: {each}: {reason}", err=True)
    finally:
        db.dispose()
    if failed:
        raise typer.Exit(1)


def _summary(result: FetchResult) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in asdict(result).items()}


def register(app: typer.Typer) -> None:
    """Add ``stanch exchange`` to the ``stanch`` command."""
    app.add_typer(exchange_app, name="exchange")
