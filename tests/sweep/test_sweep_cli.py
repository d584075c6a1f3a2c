"""``stanch sweep`` from the command line: lines on stdout, one summary line on stderr, exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stanch.cli import app
from stanch.store import Database
from tests.sweep.conftest import bank_seed


@pytest.fixture
def runner(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    return CliRunner()


def test_sweep_prints_matches_and_a_summary(runner: CliRunner, database: Database, catalog: Path) -> None:
    bank_seed(database, 5)
    (catalog / "broken.jpg").write_bytes(b"broken")
    result = runner.invoke(app, ["sweep", str(catalog), "--workers", "2"])
    assert result.exit_code == 1  # one item failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(line["path"]).name for line in lines] == ["broken.jpg", "item-5.jpg"]
    assert "error" in lines[0] and lines[1]["matched"] is True
    summary = json.loads(result.stderr.splitlines()[-1])["summary"]
    assert (summary["sweep"], summary["items"], summary["hashed"], summary["failed"]) == (1, 9, 8, 1)

    again = runner.invoke(app, ["sweep", str(catalog), "--since", "1"])
    assert json.loads(again.stderr.splitlines()[-1])["summary"]["reused"] == 8


def test_sweep_refuses_what_it_cannot_start(runner: CliRunner, database: Database, catalog: Path) -> None:
    unknown_case = runner.invoke(app, ["sweep", str(catalog), "--case", "STN-AAAA-AAAA"])
    assert unknown_case.exit_code == 2 and "no takedown request" in unknown_case.stderr
    no_checkpoint = runner.invoke(app, ["sweep", str(catalog), "--since", "7"])
    assert no_checkpoint.exit_code == 2 and "not a finished sweep" in no_checkpoint.stderr
    missing = runner.invoke(app, ["sweep", str(catalog / "nothing-here")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    engine = runner.invoke(app, ["sweep", str(catalog), "--engine", "spark"])
    # --engine is a choice of the command's own type: Click refuses it, naming the choices.
    assert engine.exit_code == 2 and "'spark' is not one of 'local', 'ray'" in engine.stderr


def test_the_progress_bar_leaves_stdout_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from stanch.cli.sweep import _progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    stdout = sys.stdout
    with _progress(100) as advance:
        assert advance is not None
        advance(10)
        assert sys.stdout is stdout  # lines written meanwhile still go where stdout points
