"""One write transaction for a command that changes the database, and what a refusal looks like."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def cli_write(*refused: type[Exception]) -> Iterator[Session]:
    """A write transaction on the configured database. One of the ``refused`` errors (the library's way
    of saying no: an unknown name, a bad value) rolls it back and ends the command with ``error: ...``
    on stderr and exit status 1, instead of a traceback."""
    from stanch.store import open_database

    db = open_database()
    try:
        with db.write() as session:
            yield session
    except refused as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
