"""Migration 0002 creates what the outbox and audit models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy

from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from stanch.store.outbox_models import OutboxMessage


@pytest.mark.parametrize("model", [OutboxMessage, AuditEvent], ids=["outbox", "audit_log"])
def test_the_migration_matches_the_model(database: Database, model: type) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    with database.engine.connect() as connection:
        inspector = sqlalchemy.inspect(connection)
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table.name)}
    assert set(columns) == set(table.columns.keys())
    for column in table.columns:
        assert columns[column.name]["nullable"] == column.nullable, column.name
    assert indexes >= {index.name for index in table.indexes}
    model_uniques = {(c.name,) for c in table.columns if c.unique}
    assert model_uniques <= uniques | {tuple(i) for i in _unique_indexes(database, table.name)}


def _unique_indexes(database: Database, name: str) -> list[list[str]]:
    """SQLite reports some UNIQUE constraints only as unique indexes."""
    with database.engine.connect() as connection:
        return [i["column_names"] for i in sqlalchemy.inspect(connection).get_indexes(name) if i["unique"]]
