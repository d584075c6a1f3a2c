"""Schema migrations (Alembic), run from code at every start so a fresh database just works.

The Alembic environment ships inside the package (``stanch/store/migrations``); ``alembic.ini``
beside this file is only for developers writing new revisions
(``alembic -c stanch/store/alembic.ini revision -m "..."``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from stanch.store.engine import write_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x5374616E6368  # "Stanch": the PostgreSQL advisory lock that serialises upgrades


def alembic_config() -> Config:
    """Alembic's configuration, built in code so no ini file has to be found at run time."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction.

    Several server processes may start at once: PostgreSQL serialises them with an advisory lock,
    SQLite with its write lock (the transaction begins IMMEDIATE); whoever comes second finds the
    schema current and does nothing.
    """
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    config = alembic_config()
    with (write_engine(engine).connect() as connection, foreign_keys_off(connection),
          connection.begin()):
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        check_foreign_keys(connection)


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrating (set on the driver's connection before any
    transaction begins: inside one the pragma does nothing).

    Batch mode rebuilds a table to change it (create, copy, drop the old, rename), and dropping a table
    that other tables' rows reference fails with foreign keys on, even though the rebuilt table holds
    the same rows. SQLite's documented procedure: keys off, rebuild, ``PRAGMA foreign_key_check`` before
    commit (``check_foreign_keys``), keys on again."""
    driver = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if driver is not None:
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision, read from the text of the version files (None unless exactly one head).

    Reading a few lines of text costs well under a millisecond; Alembic's own way imports Alembic,
    the environment and every revision module, which was most of the 0.4 s that every command on a
    database (``stanch sweep``, ``stanch match``...) paid to find it had nothing to do.
    """
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision(?:: *str)? *= *[\"']([^\"']+)[\"']", text, re.MULTILINE)
        down = re.search(r"^down_revision\b[^=]*=(.*)$", text, re.MULTILINE)
        if revision is None or down is None:
            return None  # not a shape this reader knows: let Alembic decide
        revisions.add(revision.group(1))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """True if the database is at the head revision, found with one query and no Alembic.

    False when unsure (no version table yet, several heads, a revision this reader cannot parse):
    ``upgrade`` then runs Alembic, which locks and decides.
    """
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    except DBAPIError:
        return False
    return list(versions) == [head]
