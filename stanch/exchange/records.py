"""What a parsed hash list is made of, whatever its format: entries to add, withdrawals, skips.

Each parser turns lines into ``(where, item)`` pairs. A bad line or record becomes a ``Quarantined``
item naming it and the problem, so the rest of the file still goes in (``guard`` turns a record's
``FormatError`` into one); ``FormatError`` is raised only when the file as a whole cannot be read (not a
format Stanch knows, a header without the columns it needs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from stanch.store import NewEntry


class FormatError(ValueError):
    """A line or record that cannot be read; ``where`` is e.g. ``"line 12"``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """The list says this item is gone (StopNCII ``Withdrawn``/``Deleted``): withdraw our copy."""

    external_list: str
    external_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    """An item Stanch cannot use (e.g. a TMK video hash), counted under ``reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A line or record that could not be read: left out, counted, reported with ``where`` and why."""

    where: str
    reason: str


Item = NewEntry | Withdrawal | Skip | Quarantined


def content_lines(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``("line N", text)`` for every line that is not blank or a ``#`` comment, stripped."""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield f"line {number}", text


def guard(make: Callable[..., Item], *args: Any, **kwargs: Any) -> Item:
    """``make(*args, **kwargs)``, or the ``Quarantined`` item for the ``FormatError`` it raised."""
    try:
        return make(*args, **kwargs)
    except FormatError as error:
        return Quarantined(error.where, error.message)
