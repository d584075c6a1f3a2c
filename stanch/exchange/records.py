"""What a parsed hash list is made of, whatever its format: entries to add, withdrawals, skips.

Each parser turns lines into ``(where, item)`` pairs and raises ``FormatError`` naming the line (or
record) and the problem, so that an import can refuse the whole file before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

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


Item = NewEntry | Withdrawal | Skip
