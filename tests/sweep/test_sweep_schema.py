"""Migration 0005 creates what the sweep's models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy

from stanch.store import Database
from stanch.store.sweep_models import CatalogItem, Sweep
from tests.schema_check import assert_migration_matches_model

MODELS = [Sweep, CatalogItem]


@pytest.mark.parametrize("model", MODELS, ids=[m.__tablename__ for m in MODELS])
def test_the_migration_matches_the_model(database: Database, model: type) -> None:
    assert_migration_matches_model(database, model)


def test_catalog_items_key_hash_is_a_unique_constraint(database: Database) -> None:
    with database.engine.connect() as connection:
        uniques = sqlalchemy.inspect(connection).get_unique_constraints(CatalogItem.__tablename__)
    assert ("key_hash",) in {tuple(u["column_names"]) for u in uniques}
