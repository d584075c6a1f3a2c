"""Opening the database: one engine per process, migrations at start, sessions for reads and writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from stanch.config import ConfigError
from stanch.store.engine import create_store_engine, write_engine
from stanch.store.migrate import upgrade


@dataclass
class Database:
    """An opened, migrated database: the engine and the two kinds of session Stanch uses.

    ``read()`` for lookups; ``write()`` for anything that changes rows (committed at the end of the
    ``with`` block, all rolled back if it raises). On SQLite a write session holds the write lock
    from its first statement, so concurrent writers queue instead of failing.
    """

    engine: Engine

    def __post_init__(self) -> None:
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(write_engine(self.engine), expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is committed."""
        with self._reads() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._writes.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close the pooled connections (tests and short-lived commands)."""
        self.engine.dispose()


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open ``url`` (default ``STANCH_DATABASE_URL``), bringing its schema up to date first.

    Migrating at every start costs one query when there is nothing to do, and is safe when several
    server processes start at once (see ``stanch.store.migrate.upgrade``).
    """
    engine = create_store_engine(url)
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect():
                pass
        except OperationalError as error:
            engine.dispose()
            reason = str(error.orig or error).strip().splitlines()[0]
            setting = "the database URL" if url else "STANCH_DATABASE_URL"
            raise ConfigError(f"{setting}: cannot connect to PostgreSQL at "
                              f"{engine.url.render_as_string(hide_password=True)} ({reason})") from None
    if migrate:
        upgrade(engine)
    return Database(engine)
