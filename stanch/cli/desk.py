"""``stanch desk tick``: one round of the desk's periodic work (escalations, locating content).

``stanch serve`` already does this every minute in the background; the command is for installations
that prefer cron, and for trying the desk out by hand.
"""

from __future__ import annotations

import typer

desk_app = typer.Typer(help="The takedown desk's periodic work.", no_args_is_help=True)


@desk_app.command("tick")
def tick_command() -> None:
    """Escalate requests at 24 h and 36 h elapsed (once each) and resolve newly reported locations."""
    from stanch.desk.locate import resolvers_from_environment
    from stanch.desk.ticker import tick
    from stanch.runtime import Settings, Stanch

    with Stanch.open(settings=Settings(resolvers=resolvers_from_environment())) as runtime:
        report = tick(runtime.db, runtime.now(), runtime.resolvers)
    for escalation in report.escalations:
        typer.echo(f"escalated {escalation.request}: {escalation.hours} h elapsed")
    typer.echo(f"{len(report.escalations)} escalations, {report.items_located} items located, "
               f"{report.previews_expired} old previews deleted")


def register(app: typer.Typer) -> None:
    """Add ``stanch desk`` to the ``stanch`` command."""
    app.add_typer(desk_app, name="desk")
