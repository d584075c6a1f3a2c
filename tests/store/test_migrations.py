"""Migrations: a fresh database gets the whole schema, running them again changes nothing, and the
models agree with what the migrations create."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from stanch.store import Base, open_database
from stanch.store.migrate import alembic_config, current_revision, head_revision, is_current, upgrade

BANK_TABLES = {
    "banks", "imports", "entries", "entry_hashes", "video_frames", "bank_changes", "bank_changes_pruned",
    "api_keys",
}


def test_fresh_sqlite_file_is_migrated_at_open(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    db = open_database(url)
    tables = set(sqlalchemy.inspect(db.engine).get_table_names())
    assert {"banks", "entries", "entry_hashes", "video_frames", "bank_changes", "api_keys"} <= tables
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(db.engine) == head
    db.dispose()


def test_upgrade_is_idempotent_and_models_match_migrations(database) -> None:
    upgrade(database.engine)
    upgrade(database.engine)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "include_object": _bank_and_key_tables}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _bank_and_key_tables(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Compare the tables of stanch.store.models (other layers' migrations check their own)."""
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in BANK_TABLES


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_current_database_is_opened_without_alembic(database) -> None:
    upgrade(database.engine)
    assert is_current(database.engine)
    probe = ("import sys\nfrom stanch.store import open_database\n"
             f"open_database({database.engine.url.render_as_string(hide_password=False)!r}).dispose()\n"
             "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


def test_an_older_database_is_not_current(tmp_path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert not is_current(engine)  # no version table yet
    upgrade(engine, "0007")
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine) and current_revision(engine) == head_revision()
    engine.dispose()
