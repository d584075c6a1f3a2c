"""``stanch keys``: the key is the last word of the last line, stored only as a digest."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from stanch.cli import app
from stanch.store import open_database, verify_key


def _run(db_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url})


def test_create_list_revoke(db_url) -> None:
    created = _run(db_url, "keys", "create", "--name", "uploads", "--scopes", "match,bank")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1].split()[-1]
    db = open_database(db_url, migrate=False)
    with db.write() as session:
        row = verify_key(session, key)
        assert row is not None and row.scopes == "match,bank"
    listed = [json.loads(line) for line in _run(db_url, "keys", "list").stdout.splitlines()]
    assert [(k["name"], k["scopes"]) for k in listed] == [("uploads", ["match", "bank"])]
    assert key not in _run(db_url, "keys", "list").stdout
    assert _run(db_url, "keys", "revoke", str(listed[0]["id"])).exit_code == 0
    with db.write() as session:
        assert verify_key(session, key) is None
    db.dispose()


def test_bad_scopes_and_unknown_keys(db_url) -> None:
    bad = _run(db_url, "keys", "create", "--name", "x", "--scopes", "match,everything")
    assert bad.exit_code == 1 and "unknown scope everything" in bad.stderr
    assert _run(db_url, "keys", "revoke", "42").exit_code == 1
