"""The command line as data, for its generated reference page and the docs test.

``commands()`` walks the ``stanch`` command the way Click parses it, so the reference (docs/, built by
``scripts/docs_hooks.py``) and the test that every command and option is documented
(``tests/test_docs.py``) can never disagree with ``stanch --help``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from typer import _click as click  # Typer vendors Click: its classes, not the click package's
from typer.core import TyperArgument, TyperGroup, TyperOption

from stanch.cli import COMMANDS, load_command


@dataclass(frozen=True)
class Command:
    """One command as a user types it (``stanch bank create``), and the Click object behind it."""

    path: str
    command: click.Command

    @property
    def is_group(self) -> bool:
        return isinstance(self.command, TyperGroup)

    def options(self) -> list[TyperOption]:
        return [p for p in self.command.params if isinstance(p, TyperOption)]

    def arguments(self) -> list[TyperArgument]:
        return [p for p in self.command.params if isinstance(p, TyperArgument)]


def commands() -> Iterator[Command]:
    """Every command and command group of ``stanch``, groups before their subcommands."""
    for name in COMMANDS:
        yield from _walk(f"stanch {name}", load_command(name))


def _walk(path: str, command: click.Command) -> Iterator[Command]:
    yield Command(path, command)
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield from _walk(f"{path} {name}", sub)


def _type_of(param: TyperOption | TyperArgument, ctx: click.Context) -> str:
    if isinstance(param, TyperOption) and param.is_flag:
        return "flag"
    shown = param.display_type(ctx)
    return shown.strip("<>").replace("|", " | ")


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The CLI reference page: each command's usage, help, arguments and options."""
    out = ["# Command reference", "",
           "Generated from the `stanch` command itself when the site is built, so it says what",
           "`stanch COMMAND --help` says. The [guide to the commands](../guides/commands.md) explains",
           "them with examples. Every command exits with status 0 on success, 1 when the work failed (a",
           "message on standard error says why) and 2 for a usage or configuration error.", ""]
    for entry in commands():
        ctx = click.Context(entry.command, info_name=entry.path)
        out += [f"## `{entry.path}`", ""]
        usage = " ".join(entry.command.collect_usage_pieces(ctx))
        out += ["```", f"{entry.path} {usage}".rstrip(), "```", ""]
        out += [entry.command.help or "", ""]
        if entry.arguments():
            out += ["| argument | type | description |", "|---|---|---|"]
            out += [f"| `{a.name.upper() if a.name else ''}` | {_cell(_type_of(a, ctx))} | "
                    f"{_cell(a.help)}{' (required)' if a.required else ''} |" for a in entry.arguments()]
            out.append("")
        if entry.options():
            out += ["| option | type | default | description |", "|---|---|---|---|"]
            for option in entry.options():
                flags = ", ".join(f"`{flag}`" for flag in [*option.opts, *option.secondary_opts])
                default = "" if option.is_flag or option.default in (None, ()) else f"`{option.default}`"
                out.append(f"| {flags} | {_cell(_type_of(option, ctx))} | {default} | "
                           f"{_cell(option.help)}{' (required)' if option.required else ''} |")
            out.append("")
    return "\n".join(out)
