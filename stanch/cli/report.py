"""``stanch report [--format md|json]``: the transparency report, per month.

Each run is recorded in the audit log (``report.export``) with who ran it.
"""

from __future__ import annotations

from typing import Literal

import typer

from stanch.cli.audit import cli_actor


def report_command(
    format: Literal["md", "json"] = typer.Option("md", "--format", "-f",
                                                help="md (a Markdown table) or json."),
) -> None:
    """Print the transparency report: requests by outcome, time to decision, copies, appeals, per month."""
    from stanch.desk.audit import record
    from stanch.desk.report import as_json_text, monthly, report_markdown
    from stanch.store import open_database

    db = open_database()
    try:
        with db.write() as session:
            figures = monthly(session)
            record(session, cli_actor(), "report.export", None, {"via": "cli", "format": format,
                                                                 "months": len(figures)})
    finally:
        db.dispose()
    typer.echo(as_json_text(figures) if format == "json" else report_markdown(figures), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``stanch report`` to the ``stanch`` command."""
    app.command("report")(report_command)
