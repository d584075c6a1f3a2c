"""Alembic environment: migrates the connection Stanch hands over, or STANCH_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

# Tables defined beside models.py: imported so that Base.metadata (autogenerate) holds them too.
import stanch.store.audit_models
import stanch.store.exchange_models
import stanch.store.outbox_models
import stanch.store.stats_models  # noqa: F401
from stanch.store.engine import create_store_engine, write_engine
from stanch.store.models import Base


def _run(connection: Connection) -> None:
    # Batch mode lets later revisions alter SQLite tables (SQLite has little ALTER TABLE).
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with write_engine(create_store_engine()).begin() as own:
        _run(own)


if context.is_offline_mode():
    raise SystemExit("Stanch migrations run online only: point STANCH_DATABASE_URL at the database")
run_migrations_online()
