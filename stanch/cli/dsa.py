"""``stanch dsa``: statements of reasons and the EU DSA Transparency Database.

``stanch dsa status`` counts statements by state (off, pending, queued, sent, rejected) and lists the
rejected ones with the database's message; ``stanch dsa queue`` batches pending statements into the
outbox now (the server's ticker does it every minute), and ``stanch actions run`` sends them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from stanch.cli.transaction import cli_write

dsa_app = typer.Typer(help="Statements of reasons for the EU DSA Transparency Database.",
                       no_args_is_help=True)


@dsa_app.command("status")
def status_command() -> None:
    """Statements sent, pending and rejected, and why each rejected one was refused."""
    from stanch.actions.settings import SettingsError, dsa_tdb
    from stanch.desk.dsa import dsa_counts, rejected
    from stanch.store import open_database

    try:
        configured = dsa_tdb() is not None
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    db = open_database()
    try:
        with db.read() as session:
            counts, refused = dsa_counts(session), rejected(session)
    finally:
        db.dispose()
    typer.echo(f"submission: {'on' if configured else 'off (STANCH_DSA_TDB_URL is unset)'}")
    for state in ("sent", "pending", "queued", "rejected", "off"):
        typer.echo(f"{state}: {counts[state]}")
    for row in refused:
        typer.echo(f"rejected {row['id']} (item {row['item_id']}) at {row['at']}: {row['message']}")


@dsa_app.command("queue")
def queue_command() -> None:
    """Put pending statements into outbox batches of at most 100 now."""
    from stanch.desk.dsa import queue_batches

    with cli_write() as session:
        queued = queue_batches(session, datetime.now(UTC))
    typer.echo(f"statements queued: {queued}")


def register(app: typer.Typer) -> None:
    """Add ``stanch dsa`` to the ``stanch`` command."""
    app.add_typer(dsa_app, name="dsa")
