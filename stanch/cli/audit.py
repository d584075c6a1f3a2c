"""``stanch audit verify`` and ``stanch audit show``: check the audit log's hash chain, read the log.

Reading the log is itself recorded in it (``audit.view``), with who ran the command (``cli:<os user>``).
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime

import typer

audit_app = typer.Typer(help="The audit log: verify its hash chain, show its events.", no_args_is_help=True)


def cli_actor() -> str:
    """``cli:<os user>``: who ran a command, as the audit log names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{''.join(user.split()) or 'unknown'}"


@audit_app.command("verify")
def verify_command(
    anchor: str | None = typer.Option(None, "--anchor", help="A head hash recorded earlier: it must be "
                                      "in the chain (catches a rebuilt or emptied log)."),
) -> None:
    """Check every event's hash and link: exit 0 when the chain is intact, 1 naming the first bad event."""
    from stanch.desk.audit import verify
    from stanch.store import open_database

    db = open_database()
    try:
        with db.read() as session:
            result = verify(session, anchor=anchor)
    finally:
        db.dispose()
    if result.ok:
        typer.echo(f"audit log intact: {result.events} events; head {result.head or '(empty)'}")
        return
    where = f" at event {result.bad_seq}" if result.bad_seq is not None else ""
    typer.echo(f"audit log BROKEN{where}: {result.problem}", err=True)
    typer.echo(f"the {result.events} events before it are intact; last good hash {result.head or '(none)'}",
               err=True)
    raise typer.Exit(1)


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date or time such as 2026-11-01 or "
                                 "2026-11-01T09:30Z", param_hint="--since") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _subject(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    kind, sep, ident = value.partition(":")
    if not sep or not kind or not ident:
        raise typer.BadParameter(f"{value!r} is not TYPE:ID, such as request:42", param_hint="--subject")
    return kind, ident


@audit_app.command("show")
def show_command(
    since: str | None = typer.Option(None, "--since", help="Only events at or after this UTC date/time."),
    subject: str | None = typer.Option(None, "--subject", help="Only events about TYPE:ID (request:42)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many events."),
) -> None:
    """Print events oldest first, one JSON object per line; the reading is recorded in the log."""
    from stanch.desk.audit import event_record, events, record
    from stanch.store import open_database

    start, about = _since(since), _subject(subject)
    db = open_database()
    try:
        with db.write() as session:
            found = [event_record(e) for e in events(session, since=start, subject=about, limit=limit)]
            record(session, cli_actor(), "audit.view", None,
                   {"since": since, "subject": subject, "limit": limit, "events": len(found)})
    finally:
        db.dispose()
    for item in found:
        typer.echo(json.dumps(item, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add ``stanch audit`` to the ``stanch`` command."""
    app.add_typer(audit_app, name="audit")
