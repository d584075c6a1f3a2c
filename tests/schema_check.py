"""One check shared by every layer's schema test: the tables its migrations create are the ones its models
describe (columns, nullability, indexes, unique keys), so the ORM and the migrations cannot drift apart."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy import UniqueConstraint

from stanch.store import Database


def assert_migration_matches_model(database: Database, model: type) -> None:
    """Compare ``model``'s table with the one the migrations created in ``database``."""
    table = model.__table__  # type: ignore[attr-defined]
    with database.engine.connect() as connection:
        inspector = sqlalchemy.inspect(connection)
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        indexes = inspector.get_indexes(table.name)
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table.name)}
    assert set(columns) == set(table.columns.keys())
    for column in table.columns:
        assert columns[column.name]["nullable"] == column.nullable, column.name
    assert {index["name"] for index in indexes} >= {index.name for index in table.indexes}
    # SQLite reports some UNIQUE constraints only as unique indexes.
    unique_indexes = {tuple(index["column_names"]) for index in indexes if index["unique"]}
    assert _model_uniques(table) <= uniques | unique_indexes


def _model_uniques(table: sqlalchemy.Table) -> set[tuple[str, ...]]:
    """The unique keys the model declares: ``unique=True`` columns and ``UniqueConstraint``s."""
    keys: set[tuple[str, ...]] = {(column.name,) for column in table.columns if column.unique}
    keys |= {
        tuple(column.name for column in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    }
    return keys
