"""The ``stanch`` command: a thin layer over the library, one module per command group.

Each module ``stanch.cli.<name>`` exposes ``register(app)``, which adds the command ``<name>``.
The modules are imported only when their command runs or shows its own help: ``stanch --help``
and ``stanch hash ...`` must not pay for FastAPI, SQLAlchemy and the web pages they never use
(``benchmarks/cli_startup.py`` measures it). ``COMMANDS`` holds each command's one-line summary
for ``stanch --help``; ``tests/cli/test_startup.py`` checks that it says what the command says.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import typer
from typer import _click as click  # Typer 0.29 vendors Click: its classes, not the click package's
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

COMMANDS: dict[str, str] = {
    "hash": "Hash media: one JSON line per file on stdout; exit status 1 if any file could not be hashed.",
    "match": "Match media against the banks: one JSON line per file; exit status 1 if any file failed.",
    "serve": "Serve the HTTP API (and pages) on the database in STANCH_DATABASE_URL.",
    "report": "Print the transparency report: requests by outcome, time to decision, copies, appeals, "
              "per month.",
    "sweep": "Sweep a catalog against the banks: JSON lines of matches on stdout, a summary on stderr.",
    "prune": "Withdraw expired bank entries, delete sent outbox messages older than --outbox-days and all "
             "but the newest --feed-keep change-feed rows; pending and failed messages, and the audit log, "
             "are never touched.",
    "actions": "The outbox: webhooks to the platform, emails to requesters.",
    "audit": "The audit log: verify its hash chain, show its events.",
    "request": "Ask a Stanch server to remove content (as the /report page does).",
    "users": "Reviewer accounts for the desk.",
    "desk": "The takedown desk's periodic work.",
    "bank": "Banks of hashes: create, fill, exchange, withdraw.",
    "keys": "API keys: create, list, revoke.",
    "docs": "Serve the documentation site on this machine (from a checkout of Stanch, with mkdocs-material).",
}
"""Command name -> its summary in ``stanch --help``, in the order listed there."""


def load_command(name: str) -> click.Command:
    """The click command ``name``, importing its module (and whatever that module needs) now."""
    module = importlib.import_module(f"stanch.cli.{name}")
    holder = typer.Typer(add_completion=False)
    holder.callback()(lambda: None)  # a callback makes typer build a group even for one command
    module.register(holder)
    command = typer.main.get_group(holder).commands[name]
    unwrap_help(command)
    return command


def unwrap(text: str | None) -> str | None:
    """Help text with the line breaks of source code joined, so the terminal wraps it at its width.

    Paragraphs (blank lines) are kept; in Rich's markup mode Typer would print each source line break.
    """
    if not text:
        return text
    return re.sub(r"(?<!\n)\n(?!\n)", " ", inspect.cleandoc(text))


def unwrap_help(command: click.Command) -> None:
    """``unwrap`` the help of ``command``, its options and arguments, and its subcommands'."""
    command.help = unwrap(command.help)
    command.short_help = unwrap(command.short_help)
    if isinstance(command, TyperCommand | TyperGroup):
        command.rich_markup_mode = None  # Click's plain help, as the top level prints it (see ``app``)
    for param in command.params:
        if isinstance(param, TyperOption | TyperArgument):
            param.help = unwrap(param.help)
    for sub in getattr(command, "commands", {}).values():
        unwrap_help(sub)




class LazyCommands(TyperGroup):
    """The top-level group: lists ``COMMANDS`` from their summaries and loads a command when used."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(cmd_name, short_help=COMMANDS[cmd_name], help=COMMANDS[cmd_name])
        return load_command(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def stanch_version() -> str:
    """The installed version of Stanch (``unknown`` when run from a tree that was never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stanch")
    except PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stanch {stanch_version()}")
        raise typer.Exit()


app = typer.Typer(
    name="stanch",
    cls=LazyCommands,
    # Click's plain help and error messages: Rich's renderer costs 0.1-0.3 s of start-up to load, and
    # plain text is what scripts and `stanch ... 2>&1 | grep` read best.
    rich_markup_mode=None,
    help="Stanch: hash media, keep banks of hashes, match uploads, run the takedown desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def stanch(
    show_version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                      help="Print the installed version of Stanch and exit."),
) -> None:
    """Stanch: hash media, keep banks of hashes, match uploads, run the takedown desk."""


def main(args: Any = None) -> None:
    """Entry point of the console script: a setting that cannot work is one line and exit status 2."""
    from stanch.config import ConfigError

    try:
        app(args)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
