"""``stanch prune``: withdraw expired bank entries, delete delivered outbox messages, old change-feed
rows, the flood guard's past windows and uploads logged longer ago than ``STANCH_UPLOAD_LOG_DAYS``
(``stanch.housekeeping``).

Meant for cron or a systemd timer; safe to run while servers run (a server whose feed cursor falls
below the pruned rows reloads its index).
"""

from __future__ import annotations

import typer

from stanch.cli.choices import FEED_KEEP, OUTBOX_DAYS


def prune_command(
    outbox_days: float = typer.Option(OUTBOX_DAYS, "--outbox-days", min=0,
                                      help="Delete outbox messages sent more than this many days ago."),
    feed_keep: int = typer.Option(FEED_KEEP, "--feed-keep", min=1,
                                  help="Keep at least this many newest change-feed rows (at least 1)."),
) -> None:
    """Withdraw expired bank entries, delete sent outbox messages older than --outbox-days and all but
    the newest --feed-keep change-feed rows; pending and failed messages, and the audit log, are never
    touched."""
    from stanch.housekeeping import prune
    from stanch.store import open_database

    db = open_database()
    try:
        done = prune(db, outbox_days=outbox_days, feed_keep=feed_keep)
    finally:
        db.dispose()
    typer.echo(f"bank entries: {done.expired_entries} past their expiry withdrawn")
    typer.echo(f"outbox: {done.outbox_rows} sent messages deleted (sent over {outbox_days:g} days ago)")
    typer.echo(f"change feed: {done.feed_rows} rows deleted; pruned through seq {done.feed_pruned_through}")
    typer.echo(f"upload log: {done.upload_log_rows} uploads deleted (past STANCH_UPLOAD_LOG_DAYS)")
    typer.echo(f"flood guard: {done.window_rows} past hour windows deleted")


def register(app: typer.Typer) -> None:
    """Add ``stanch prune`` to the ``stanch`` command."""
    app.command("prune")(prune_command)
