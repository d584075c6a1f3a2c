"""Migrations 0003 and 0012 create what the desk's models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from stanch.store import Database
from stanch.store.decision_models import AppealItem, EntrySource, ItemDecision
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
from tests.schema_check import assert_migration_matches_model

MODELS = [TakedownRequest, RequestLocation, RequestItem, RequestEntry, RequestNote, RequestEscalation, Appeal,
          IntakeEvent, DeskSecret, ItemDecision, EntrySource, AppealItem]


@pytest.mark.parametrize("model", MODELS, ids=[m.__tablename__ for m in MODELS])
def test_the_migration_matches_the_model(database: Database, model: type) -> None:
    assert_migration_matches_model(database, model)
