"""Migrations 0012 and 0017 on databases with cases decided before them (SQLite and PostgreSQL): with
0012 the items of a removed case become ``remove`` decisions of its reviewer, those of a rejected case
``reject`` with the case's reason, and an open case's items stay undecided; with 0017 decisions keep their
rows with no refusal code, down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy
from alembic import command

from stanch.store import create_store_engine
from stanch.store.migrate import alembic_config, check_foreign_keys, foreign_keys_off, upgrade

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _case(connection: sqlalchemy.Connection, number: int, status: str, reason: str | None) -> None:
    decided = AT if status in ("removed", "rejected") else None
    connection.execute(sqlalchemy.text(
        "INSERT INTO takedown_requests (id, public_id, token_hash, status, received_at, deadline, "
        "requester_name, requester_email, relationship, signature, statement, hashes, contact_hash, flags, "
        "decision, decision_reason, decided_at, decided_by, updated_at, share_consent) VALUES (:id, :pid, "
        ":token, :status, :at, :at, 'R', 'r@example.org', 'self', 'R', 'S', '[]', 'c', '[]', :decision, "
        ":reason, :decided, :by, :at, false)"),
        {"id": number, "pid": f"STN-TEST-000{number}", "token": b"\0" * 32, "status": status, "at": AT,
         "decision": {"removed": "remove", "rejected": "reject"}.get(status), "reason": reason,
         "decided": decided, "by": "user:first" if decided else None})
    for n in range(2):
        connection.execute(sqlalchemy.text(
            "INSERT INTO request_items (id, request_id, item_id, origin, hashes, added_at, added_by, "
            "removal_sent_at) VALUES (:id, :request, :item, 'located', '{}', :at, 'system', :sent)"),
            {"id": number * 10 + n, "request": number, "item": f"post/{number}{n}", "at": AT,
             "sent": AT if status == "removed" else None})


def test_cases_decided_before_0012_read_as_decisions_per_item(db_url: str) -> None:
    engine = create_store_engine(db_url)
    config = alembic_config()
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection  # keys off while SQLite rebuilds tables
        command.downgrade(config, "0012-1")
        check_foreign_keys(connection)
    with engine.begin() as connection:
        _case(connection, 1, "removed", None)
        _case(connection, 2, "rejected", "Not the requester.")
        _case(connection, 3, "in_review", None)
    upgrade(engine, "0012")
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "SELECT item_id, request_id, decision, reason, decided_by FROM item_decisions ORDER BY item_id"
        )).all()
    upgrade(engine)
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (10, 1, "remove", None, "user:first"), (11, 1, "remove", None, "user:first"),
        (20, 2, "reject", "Not the requester.", "user:first"), (21, 2, "reject", "Not the requester.",
                                                                 "user:first")]


def test_0017_adds_an_empty_reason_code_and_goes_back(db_url: str) -> None:
    """Decisions taken before 0017 keep their rows with no code; 0017 down and up again keeps them (on
    SQLite the column is dropped by a table rebuild, with foreign keys off while it runs)."""
    engine = create_store_engine(db_url)
    config = alembic_config()
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
        check_foreign_keys(connection)
    with engine.begin() as connection:
        _case(connection, 4, "rejected", "Not the requester.")
        connection.execute(sqlalchemy.text(
            "INSERT INTO item_decisions (item_id, request_id, decision, reason, decided_at, decided_by) "
            "VALUES (40, 4, 'reject', 'Not the requester.', :at, 'user:first')"), {"at": AT})
    upgrade(engine)
    with engine.connect() as connection:
        before = connection.execute(sqlalchemy.text(
            "SELECT item_id, decision, reason, reason_code FROM item_decisions")).all()
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
        check_foreign_keys(connection)
        columns = {c["name"] for c in sqlalchemy.inspect(connection).get_columns("item_decisions")}
    upgrade(engine)
    with engine.connect() as connection:
        after = connection.execute(sqlalchemy.text(
            "SELECT item_id, decision, reason, reason_code FROM item_decisions")).all()
    engine.dispose()
    assert [tuple(r) for r in before] == [(40, "reject", "Not the requester.", None)]
    assert "reason_code" not in columns and [tuple(r) for r in after] == [tuple(r) for r in before]
