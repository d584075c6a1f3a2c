"""``stanch sweep`` from the command line: lines on stdout, one summary line on stderr, exit statuses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stanch.cli import app
from stanch.cli import sweep as sweep_module
from stanch.store import Database, open_database
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


def _console(args: list[str], url: str, *, lean: bool) -> subprocess.CompletedProcess[str]:
    """``stanch ARGS`` in a fresh Python on ``url``: through ``main`` (lean parsers first) or Typer."""
    entry = "main()" if lean else "root.app()"
    code = f"import sys\nsys.argv = ['stanch', *{args!r}]\nfrom stanch.cli import main, root\n{entry}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env={**os.environ, "STANCH_DATABASE_URL": url})


def _seeded_copy(template: Path, path: Path) -> str:
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    db = open_database(url, migrate=False)
    try:
        bank_seed(db, 5)
    finally:
        db.dispose()
    return url


@pytest.mark.parametrize("args", [
    ["sweep", "{catalog}", "--workers", "2"],
    ["sweep", "-w=1", "{catalog}"],  # not sure: Typer's
    ["sweep", "--batch=3", "{catalog}", "-w", "1"],
    ["sweep", "{catalog}/nothing-here"],
])
def test_the_lean_sweep_prints_what_typer_prints(args: list[str], catalog: Path, tmp_path: Path,
                                                 sqlite_template: Path) -> None:
    """Same stdout, stderr and status through ``lean_sweep`` as through the Typer command, each on a
    fresh copy of the same database (a bank holding one catalog picture), a broken item included."""
    (catalog / "broken.jpg").write_bytes(b"broken")
    args = [a.format(catalog=catalog) for a in args]
    lean = _console(args, _seeded_copy(sqlite_template, tmp_path / "lean.db"), lean=True)
    typer_run = _console(args, _seeded_copy(sqlite_template, tmp_path / "typer.db"), lean=False)
    assert (lean.stdout, lean.stderr, lean.returncode) == (typer_run.stdout, typer_run.stderr,
                                                          typer_run.returncode)
    assert lean.returncode in (1, 2) and lean.stderr


def test_a_broken_setting_is_one_line_either_way(catalog: Path) -> None:
    lean = _console(["sweep", str(catalog)], "foo", lean=True)
    assert lean.returncode == 2 and lean.stderr.startswith("error: ") and lean.stderr.count("\n") == 1
    assert "STANCH_DATABASE_URL" in lean.stderr


def test_the_lean_sweep_loads_neither_typer_nor_click_nor_pydantic(catalog: Path, db_url: str) -> None:
    probe = (f"import sys\nsys.argv = ['stanch', 'sweep', {str(catalog)!r}, '-w', '1']\n"
             "from stanch.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('loaded:', *sorted({m.split('.')[0] for m in sys.modules}\n"
             "                         & {'typer', 'click', 'pydantic'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "STANCH_DATABASE_URL": db_url})
    assert '"hashed": 8' in done.stderr
    assert done.stdout.rpartition("loaded:")[2].split() == []


@pytest.mark.parametrize("args", [
    ["sweep"], ["sweep", "--help"], ["sweep", "a", "b"], ["sweep", "-w2", "a"], ["sweep", "-w", "-1", "a"],
    ["sweep", "-w", "1.5", "a"], ["sweep", "-w", " 1", "a"], ["sweep", "a", "--workers"],
    ["sweep", "a", "--since", "1"], ["sweep", "a", "--case", "STN-AAAA-AAAA"],
    ["sweep", "a", "--engine", "ray"],
    ["sweep", "a", "--allow-private"], ["sweep", "a", "--max-file-mb", "3"], ["sweep", "--", "a"],
    ["sweep", "-w", "٣", "a"], ["hash", "a"],
])
def test_what_the_lean_sweep_is_not_sure_of_goes_to_typer(args: list[str]) -> None:
    assert sweep_module.lean_arguments(args) is None


def test_the_lean_sweep_reads_options_as_click_does_and_knows_the_command_s_defaults() -> None:
    from stanch.cli import load_command

    source, options = sweep_module.lean_arguments(["sweep", "-w", "3", "x", "--batch=7", "--workers=2"]) or (
        Path(), {})
    assert (source, options) == (Path("x"), {**sweep_module.DEFAULTS, "workers": 2, "batch": 7})
    command = load_command("sweep")
    defaults = {param.name: param.default for param in command.params if param.name != "source"}
    assert defaults == sweep_module.DEFAULTS
    flags = {flag for param in command.params for flag in param.opts if param.name in ("workers", "batch")}
    assert flags == set(sweep_module.LEAN_OPTIONS)
