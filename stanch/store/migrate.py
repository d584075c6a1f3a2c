"""Schema migrations (Alembic), run from code at every start so a fresh database just works.

The Alembic environment ships inside the package (``stanch/store/migrations``); ``alembic.ini``
beside this file is only for developers writing new revisions
(``alembic -c stanch/store/alembic.ini revision -m "..."``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from stanch.store.engine import write_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x5374616E6368  # "Stanch": the PostgreSQL advisory lock that serialises upgrades


def alembic_config() -> Config:
    """Alembic's configuration, built in code so no ini file has to be found at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction.

    Several server processes may start at once: PostgreSQL serialises them with an advisory lock,
    SQLite with its write lock (the transaction begins IMMEDIATE); whoever comes second finds the
    schema current and does nothing.
    """
    config = alembic_config()
    with write_engine(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
