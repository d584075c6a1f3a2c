"""Migration 0003 creates what the desk's models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy

from stanch.store import Database
from stanch.store.desk_models import (
    Appeal,
    DeskSecret,
    IntakeEvent,
    RequestEntry,
    RequestEscalation,
    RequestItem,
    RequestLocation,
    RequestNote,
    TakedownRequest,
)

MODELS = [TakedownRequest, RequestLocation, RequestItem, RequestEntry, RequestNote, RequestEscalation, Appeal,
          IntakeEvent, DeskSecret]


@pytest.mark.parametrize("model", MODELS, ids=[m.__tablename__ for m in MODELS])
def test_the_migration_matches_the_model(database: Database, model: type) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    with database.engine.connect() as connection:
        inspector = sqlalchemy.inspect(connection)
        columns = {column["name"]: column for column in inspector.get_columns(table.name)}
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
    assert set(columns) == set(table.columns.keys())
    for column in table.columns:
        assert columns[column.name]["nullable"] == column.nullable, column.name
    assert indexes >= {index.name for index in table.indexes}
