"""Raw-SQL tampering with the audit log, as an attacker with database access would do it.

The append-only trigger is switched off first (that is the point: it stops accidents, not attackers).
On PostgreSQL it is disabled and re-enabled inside the same transaction, because the test database is
shared by the whole session; on SQLite every test has its own copy, so the triggers are dropped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from stanch.store import Database


def tamper(database: Database, statement: str, **params: Any) -> None:
    """Run ``statement`` against ``audit_log`` with the append-only trigger out of the way, committed."""
    with database.engine.begin() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        connection.execute(text(statement), params)
        if postgresql:
            connection.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
