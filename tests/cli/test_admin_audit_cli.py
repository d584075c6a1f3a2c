"""Every admin change from the CLI is an audit event: keys created and revoked, banks created, lists
imported and entries withdrawn (with who did it, never a key itself)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from stanch.cli import app
from stanch.desk.audit import event_record, events, verify
from stanch.store import Database, open_database


def _run(db_url: str, *args: str):
    result = CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url, "USER": "alex"})
    assert result.exit_code == 0, result.output
    return result


def _audited(db: Database) -> list[dict]:
    with db.read() as session:
        assert verify(session).ok
        return [event_record(e) for e in events(session)]


def test_cli_admin_changes_are_audited(db_url, tmp_path) -> None:
    created = _run(db_url, "keys", "create", "--name", "uploads", "--scopes", "match")
    key = created.stdout.split()[-1]
    key_id = json.loads(_run(db_url, "keys", "list").stdout.splitlines()[0])["id"]
    _run(db_url, "keys", "revoke", str(key_id))
    _run(db_url, "bank", "create", "ncii")
    hashes = tmp_path / "list.txt"
    hashes.write_text("f" * 64 + "\n" + "0f" * 32 + "\n")
    _run(db_url, "bank", "import", "ncii", str(hashes))
    entry = json.loads(_run(db_url, "bank", "export", "ncii").stdout.splitlines()[0])["id"]
    _run(db_url, "bank", "remove", "ncii", str(entry))
    db = open_database(db_url, migrate=False)
    try:
        audited = _audited(db)
    finally:
        db.dispose()
    assert [(e["actor"], e["action"], e["subject_type"]) for e in audited] == [
        ("cli:alex", "key.create", "key"), ("cli:alex", "key.revoke", "key"),
        ("cli:alex", "bank.create", "bank"), ("cli:alex", "bank.import", "bank"),
        ("cli:alex", "entry.withdraw", "entry"),
    ]
    assert audited[0]["details"] == {"name": "uploads", "scopes": "match"}
    assert audited[3]["details"]["added"] == 2 and audited[3]["details"]["source"] == "list.txt"
    assert audited[4]["subject_id"] == str(entry)
    assert key not in json.dumps(audited)
