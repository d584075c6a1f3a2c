"""Migration 0005 creates what the sweep's models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy

from stanch.store import Database
from stanch.store.sweep_models import CatalogItem, Sweep

MODELS = [Sweep, CatalogItem]


@pytest.mark.parametrize("model", MODELS, ids=[m.__tablename__ for m in MODELS])
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
    if model is CatalogItem:
        assert ("key_hash",) in uniques
