"""``stanch serve``'s first start: one admin key, shown once, never again."""

from __future__ import annotations

from stanch.cli.serve import first_admin_key
from stanch.desk.audit import events
from stanch.store import Database, list_keys, verify_key


def test_first_start_creates_one_admin_key_and_later_starts_none(database: Database, db_url: str) -> None:
    key = first_admin_key(db_url)
    assert key is not None
    assert first_admin_key(db_url) is None
    with database.write() as session:
        [row] = list_keys(session)
        checked = verify_key(session, key)
        assert checked is not None and checked.id == row.id
        assert set(row.scope_set) == {"match", "bank", "desk", "admin"}
        [event] = events(session)  # an admin change like any other
        assert (event.actor, event.action, event.subject_id) == ("system", "key.create", str(row.id))
