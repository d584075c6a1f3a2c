"""``stanch report [--format md|json|dsa-csv] [--from DAY --to DAY]``: the transparency report, per month,
or the rows of the EU's harmonised report (Implementing Regulation (EU) 2024/2835) that Stanch fills for
a reporting period (``dsa-csv``, which needs ``--from`` and ``--to``).

Each run is recorded in the audit log (``report.export``) with who ran it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

import typer

if TYPE_CHECKING:
    from stanch.desk.harmonised import Period

from stanch.cli.audit import cli_actor


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day: write it as YYYY-MM-DD",
                                 param_hint=option) from None


def _period(first: str | None, last: str | None, format: str) -> Period | None:
    """The reporting period of ``dsa-csv`` (both days given, in order); refused with the other formats,
    whose report always covers every month."""
    days = _day(first, "--from"), _day(last, "--to")
    if format != "dsa-csv":
        if days != (None, None):
            raise typer.BadParameter("--from and --to go with --format dsa-csv (the md and json reports "
                                     "cover every month)", param_hint="--from/--to")
        return None
    if days[0] is None or days[1] is None:
        raise typer.BadParameter("dsa-csv needs the reporting period: --from YYYY-MM-DD --to YYYY-MM-DD "
                                 "(both days included)", param_hint="--from/--to")
    from stanch.desk.harmonised import Period

    try:
        return Period(days[0], days[1])
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--from/--to") from None


def report_command(
    format: Literal["md", "json", "dsa-csv"] = typer.Option(
        "md", "--format", "-f", help="md (a Markdown table), json, or dsa-csv (the EU harmonised report)."),
    first: str | None = typer.Option(None, "--from", help="dsa-csv: first day of the period (YYYY-MM-DD)."),
    last: str | None = typer.Option(None, "--to", help="dsa-csv: last day of the period, included."),
) -> None:
    """Print the transparency report (requests by outcome, time to decision, copies, appeals, per month),
    or with --format dsa-csv the harmonised report's rows Stanch can fill for a period."""
    period = _period(first, last, format)
    from stanch.desk.audit import record
    from stanch.desk.harmonised import as_csv, rows
    from stanch.desk.report import as_json_text, monthly, report_markdown
    from stanch.store import open_database

    db = open_database()
    try:
        with db.write() as session:
            if period is not None:
                text = as_csv(rows(session, period), period)
                details: dict[str, object] = {"via": "cli", "format": format, "period": period.label()}
            else:
                figures = monthly(session)
                text = as_json_text(figures) if format == "json" else report_markdown(figures)
                details = {"via": "cli", "format": format, "months": len(figures)}
            record(session, cli_actor(), "report.export", None, details)
    finally:
        db.dispose()
    typer.echo(text, nl=False)


def register(app: typer.Typer) -> None:
    """Add ``stanch report`` to the ``stanch`` command."""
    app.command("report")(report_command)
