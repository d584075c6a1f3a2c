"""The Typer app behind ``stanch``: the top-level group, which loads a command's module when it is used.

Each module ``stanch.cli.<name>`` exposes ``register(app)``, which adds the command ``<name>``.
The modules are imported only when their command runs or shows its own help: ``stanch --help``
and ``stanch hash ...`` must not pay for FastAPI, SQLAlchemy and the web pages they never use
(``benchmarks/cli_startup.py`` measures it). ``stanch.cli.COMMANDS`` holds each command's one-line
summary for ``stanch --help``; ``tests/cli/test_startup.py`` checks that it says what the command says.
"""

from __future__ import annotations

import importlib
import inspect
import re

import typer
from typer import _click as click  # Typer 0.29 vendors Click: its classes, not the click package's
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from stanch.cli import COMMANDS


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
