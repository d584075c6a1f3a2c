"""``stanch actions``: run the outbox dispatcher, list messages, retry a failed one.

``stanch actions run`` sends webhooks and emails as their transactions commit; ``--once`` sends what
is due and exits (for cron, or to flush by hand). Settings come from the environment (see
``stanch.actions.settings``).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING

import typer

from stanch.cli.audit import cli_actor
from stanch.cli.choices import OUTBOX_STATES, choice
from stanch.cli.transaction import cli_write

if TYPE_CHECKING:  # types only: messages are read through stanch.actions
    from stanch.actions import ActionSettings
    from stanch.store.outbox_models import OutboxMessage

if TYPE_CHECKING:
    OutboxState = str
else:
    OutboxState = choice(OUTBOX_STATES)

actions_app = typer.Typer(help="The outbox: webhooks to the platform, emails to requesters.",
                          no_args_is_help=True)


def _settings() -> ActionSettings:
    from stanch.actions import ActionSettings, SettingsError

    try:
        return ActionSettings.from_env()
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@actions_app.command("run")
def run_command(
    once: bool = typer.Option(False, "--once", help="Send what is due now, then exit."),
    poll: float = typer.Option(1.0, "--poll", min=0.1, help="Seconds between looks for new messages."),
) -> None:
    """Send outbox messages as they become due, until stopped (Ctrl-C or SIGTERM)."""
    from stanch.actions import Dispatcher
    from stanch.desk.exchange_feedback import exchange_senders
    from stanch.store import open_database

    settings = _settings()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("stanch.actions").setLevel(logging.INFO)
    db = open_database()
    try:
        with Dispatcher(db.engine, settings, extra_senders=exchange_senders(db.engine)) as dispatcher:
            if "webhook" not in dispatcher.kinds:
                typer.echo("STANCH_WEBHOOK_URL is not set: webhooks wait in the outbox until it is", err=True)
            typer.echo(f"emails go to the {settings.email_backend} backend", err=True)
            if once:
                report = dispatcher.run_once()
                typer.echo(json.dumps({"sent": report.sent, "retried": report.retried,
                                       "failed": report.failed}))
                return
            dispatcher.run_forever(_stop_on_signals(), poll_seconds=poll)
    finally:
        db.dispose()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so the batch being sent finishes and is recorded."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        typer.echo(f"stopping after the current batch ({signal.Signals(signum).name})", err=True)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _summary(message: OutboxMessage) -> dict[str, object]:
    """A message as ``list`` prints it: no recipient address and no content."""
    return {
        "id": message.uuid, "kind": message.kind, "type": message.type, "status": message.status,
        "attempts": message.attempts, "created_at": _when(message.created_at),
        "next_attempt_at": _when(message.next_attempt_at) if message.status == "pending" else None,
        "done_at": _when(message.done_at), "last_error": message.last_error,
    }


@actions_app.command("list")
def list_command(
    status: OutboxState | None = typer.Option(None, "--status", help="pending, sent or failed."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first."),
) -> None:
    """Print outbox messages, newest first, one JSON object per line."""
    from stanch.actions import list_messages
    from stanch.store import open_database

    db = open_database()
    try:
        with db.read() as session:
            try:
                found = [_summary(m) for m in list_messages(session, status=status, limit=limit)]
            except ValueError as error:
                raise typer.BadParameter(str(error), param_hint="--status") from None
    finally:
        db.dispose()
    for item in found:
        typer.echo(json.dumps(item))


@actions_app.command("retry")
def retry_command(message_id: str = typer.Argument(..., help="The id `stanch actions list` shows.")) -> None:
    """Send a failed message again, from its first attempt (after fixing what made it fail)."""
    from stanch.actions import UnknownMessage, retry_message
    from stanch.desk.audit import record

    with cli_write(UnknownMessage, ValueError) as session:
        message = retry_message(session, message_id)
        record(session, cli_actor(), "outbox.retry", ("outbox", message_id),
               {"kind": message.kind, "type": message.type})
    typer.echo(f"{message_id} will be sent again by the dispatcher")


def register(app: typer.Typer) -> None:
    """Add ``stanch actions`` to the ``stanch`` command."""
    app.add_typer(actions_app, name="actions")
