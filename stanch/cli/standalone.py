"""What the lean paths share (``stanch hash`` and ``stanch sweep`` with plainly valid arguments, run
without Typer, Click or pydantic): reading their arguments as Click would, and what Click's standalone
mode adds around a command, so both end a Ctrl-C or a closed pipe exactly as their Typer commands do."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Options = Mapping[str, tuple[str, Any, float | None]]
"""Flag -> (parameter, type or tuple of choices, least value) of the options a lean path reads itself."""

PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")
"""The spellings of a float ``lean_value`` reads itself."""


def lean_options(tokens: Sequence[str], table: Options, defaults: Mapping[str, Any], *,
                 double_dash: bool) -> tuple[list[str], dict[str, Any]] | None:
    """The positional arguments and the options of ``tokens`` as Click would read them, or None when not
    sure (Typer then parses, and prints its help or its error): a flag outside ``table``, ``-w4``-style
    short flags with their value, a missing value or one ``lean_value`` does not read. ``double_dash``:
    ``--`` ends the options (otherwise it too goes to Typer)."""
    positional: list[str] = []
    options = dict(defaults)
    rest = list(tokens)
    only_positional = False
    while rest:
        token = rest.pop(0)
        if only_positional or token == "-" or not token.startswith("-"):
            positional.append(token)
            continue
        if token == "--" and double_dash:
            only_positional = True
            continue
        flag, equals, value = token.partition("=")
        if flag not in table or (equals and not flag.startswith("--")):
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        name, kind, least = table[flag]
        parsed = lean_value(value, kind, least)
        if parsed is None:
            return None
        options[name] = parsed
    return positional, options


def lean_value(value: str, kind: Any, least: float | None) -> Any:
    """``value`` as ``kind`` (int, float or a tuple of choices), or None unless surely valid.

    Only plain decimals are read (``3``, ``0.5``): Typer validates with pydantic, whose lax parsing of
    other spellings (``1_0``, `` 3``, ``1e3``, ``nan``) is its business, so they go to Typer.
    """
    if isinstance(kind, tuple):
        return value if value in kind else None
    if not (value.isdecimal() if kind is int else PLAIN_DECIMAL.fullmatch(value)) or not value.isascii():
        return None
    number = kind(value)
    return number if least is None or number >= least else None


def as_click_would(work: Callable[[], int]) -> int:
    """Run ``work`` and return its exit status; Ctrl-C prints ``Aborted!`` with status 1, and a closed
    pipe (``stanch hash DIR | head``) ends quietly with status 1."""
    try:
        return work()
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nAborted!\n")
        return 1
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return 1
