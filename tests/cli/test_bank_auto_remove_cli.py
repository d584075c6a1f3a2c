"""``stanch bank create|update --auto-remove``: the rule a bank's copies are judged by, through the real
command (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from stanch.cli import app


def _run(db_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url})


def test_a_rule_is_set_at_creation_changed_and_listed(db_url: str) -> None:
    created = _run(db_url, "bank", "create", "cases", "--auto-remove", "sha256,md5")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["auto_remove"] == "md5,sha256"
    changed = _run(db_url, "bank", "update", "cases", "--auto-remove", "md5,pdq<=4")
    assert changed.exit_code == 0 and json.loads(changed.stdout)["auto_remove"] == "md5,pdq<=4"
    listed = _run(db_url, "bank", "list")
    assert [json.loads(line)["auto_remove"] for line in listed.stdout.splitlines()] == ["md5,pdq<=4"]


def test_a_bad_rule_or_bank_is_refused_and_nothing_changes(db_url: str) -> None:
    assert _run(db_url, "bank", "create", "ncii").exit_code == 0
    bad = _run(db_url, "bank", "update", "ncii", "--auto-remove", "rot90")
    assert bad.exit_code == 1 and "'rot90' is not a term" in bad.stderr
    missing = _run(db_url, "bank", "update", "nope", "--auto-remove", "none")
    assert missing.exit_code == 1 and "no bank named 'nope'" in missing.stderr
    listed = _run(db_url, "bank", "list")
    assert json.loads(listed.stdout)["auto_remove"] == "md5,sha256,pdq<=10"
