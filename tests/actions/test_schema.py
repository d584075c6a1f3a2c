"""Migration 0002 creates what the outbox and audit models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from stanch.store import Database
from stanch.store.audit_models import AuditEvent
from stanch.store.outbox_models import OutboxMessage
from tests.schema_check import assert_migration_matches_model


@pytest.mark.parametrize("model", [OutboxMessage, AuditEvent], ids=["outbox", "audit_log"])
def test_the_migration_matches_the_model(database: Database, model: type) -> None:
    assert_migration_matches_model(database, model)
