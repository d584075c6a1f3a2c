"""Choices of the command line as types, so ``--help`` lists them (``<block|review>``, not ``<str>``)
and Typer refuses anything else with a message naming the option.

The choices come from the library's own tuples (``TRUSTS``, ``FORMATS`` ...), so a value added there
is accepted here with no second list to keep. Modules write, for mypy's sake::

    if TYPE_CHECKING:
        Trust = str
    else:
        Trust = choice(TRUSTS)
"""

from __future__ import annotations

from typing import Any, Literal


def choice(values: tuple[str, ...]) -> Any:
    """``Literal[values]``: the annotation Typer turns into a list of choices."""
    return Literal[values]
