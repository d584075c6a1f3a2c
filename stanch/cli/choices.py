"""Choices of the command line as types, so ``--help`` lists them (``<block|review>``, not ``<str>``)
and Typer refuses anything else with a message naming the option.

The choices are the library's own tuples (``TRUSTS``, ``FORMATS`` ...), written out below so that
``stanch <command> --help`` loads no library module; tests/cli/test_startup.py fails when one of them
no longer equals the library's. Modules write, for mypy's sake::

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


# The library's vocabularies, written out so that a command's ``--help`` need not import the module
# that defines them (the store, the exchange formats, the outbox: SQLAlchemy and more, 0.5-1 s on
# these machines, for a help text). tests/cli/test_startup.py checks each against the library's own.
TRUSTS = ("block", "review")
"""``stanch.store.models.TRUSTS``."""
BANK_KINDS = ("match", "allow", "minor")
"""``stanch.store.models.BANK_KINDS``."""
SCOPES = ("match", "bank", "desk", "admin")
"""``stanch.store.keys.SCOPES``."""
ROLES = ("reviewer", "admin")
"""``stanch.store.user_models.ROLES``."""
OUTBOX_STATES = ("pending", "sent", "failed")
"""``stanch.store.outbox_models.OUTBOX_STATES``."""
IMPORT_FORMATS = ("auto", "pdq", "jsonl", "stopncii", "hma", "pytx")
"""``stanch.exchange.importer.FORMATS``."""
EXPORT_FORMATS = ("jsonl", "pdq", "hma", "pytx")
"""``stanch.exchange.exporter.EXPORT_FORMATS``."""
SOURCE_TYPES = ("stopncii", "ncmec", "threatexchange", "tcap")
"""``stanch.store.exchange_models.SOURCE_TYPES``."""
RELATIONSHIPS = ("self", "authorised")
"""``stanch.desk.intake.RELATIONSHIPS``."""
OUTBOX_DAYS = 30
"""``stanch.housekeeping.OUTBOX_DAYS``."""
FEED_KEEP = 1_000_000
"""``stanch.housekeeping.FEED_KEEP``."""
