"""The command starts without loading what it does not use (benchmarks/cli_startup.py times it)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from stanch.cli import COMMANDS, app, choices, load_command, stanch_version, unwrap
from stanch.cli.hash import PurposeChoice
from stanch.signals import PURPOSES

HEAVY = ("fastapi", "sqlalchemy", "starlette", "uvicorn", "jinja2", "numpy", "PIL", "av", "httpx")


def _loaded_after(code: str) -> set[str]:
    """Top-level modules, among HEAVY, loaded by a fresh Python running ``code``."""
    probe = f"{code}\nimport sys\nprint('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.rpartition("loaded:")[2].split())


def test_the_command_and_its_help_load_no_library() -> None:
    code = "import sys\nsys.argv = ['stanch', '--help']\nfrom stanch.cli import main\ntry:\n    main()\n" \
           "except SystemExit:\n    pass"
    assert _loaded_after(code) == set()


def test_hash_help_loads_neither_the_web_nor_the_database_nor_the_hashing() -> None:
    assert _loaded_after("from stanch.cli import load_command\nload_command('hash')") == set()


def _help_of(*argv: str) -> str:
    return ("import sys\nsys.argv = ['stanch', " + ", ".join(map(repr, argv)) + ", '--help']\n"
            "from stanch.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_commands_help_loads_no_library(name: str) -> None:
    assert _loaded_after(_help_of(name)) == set()


@pytest.mark.parametrize("argv", [("bank", "import"), ("keys", "create"), ("users", "create"),
                                  ("users", "totp", "on"), ("actions", "list"), ("exchange", "add"),
                                  ("request", "file")])
def test_a_subcommands_help_loads_no_library(argv: tuple[str, ...]) -> None:
    assert _loaded_after(_help_of(*argv)) == set()


def test_a_database_command_loads_the_database_when_run(tmp_path: Path) -> None:
    code = ("import os, sys\nos.environ['STANCH_DATABASE_URL'] = " + repr(f"sqlite:///{tmp_path}/t.db") +
            "\nsys.argv = ['stanch', 'keys', 'list']\nfrom stanch.cli import main\ntry:\n    main()\n"
            "except SystemExit:\n    pass")
    assert "sqlalchemy" in _loaded_after(code)


VOCABULARIES = [
    ("TRUSTS", "stanch.store.models", "TRUSTS"), ("BANK_KINDS", "stanch.store.models", "BANK_KINDS"),
    ("SCOPES", "stanch.store.keys", "SCOPES"), ("ROLES", "stanch.store.user_models", "ROLES"),
    ("OUTBOX_STATES", "stanch.store.outbox_models", "OUTBOX_STATES"),
    ("IMPORT_FORMATS", "stanch.exchange.importer", "FORMATS"),
    ("EXPORT_FORMATS", "stanch.exchange.exporter", "EXPORT_FORMATS"),
    ("SOURCE_TYPES", "stanch.store.exchange_models", "SOURCE_TYPES"),
    ("RELATIONSHIPS", "stanch.desk.intake", "RELATIONSHIPS"),
    ("OUTBOX_DAYS", "stanch.housekeeping", "OUTBOX_DAYS"), ("FEED_KEEP", "stanch.housekeeping", "FEED_KEEP"),
]


@pytest.mark.parametrize(("ours", "module", "name"), VOCABULARIES)
def test_the_command_lines_vocabularies_are_the_librarys(ours: str, module: str, name: str) -> None:
    assert getattr(choices, ours) == getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    first_paragraph = unwrap(command.help or "").split("\n\n")[0]  # type: ignore[union-attr]
    assert COMMANDS[name] == first_paragraph
    assert "\n" not in (command.help or "").split("\n\n")[0]  # no source line breaks in the help


def test_help_lists_every_command_and_no_raw_types() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    assert "<bool>" not in result.output


def test_choices_are_listed_in_help() -> None:
    result = CliRunner().invoke(app, ["hash", "--help"], terminal_width=200)
    assert "<query|bank>" in result.output and "<str>" not in result.output and "<bool>" not in result.output


def test_purpose_choice_agrees_with_the_library() -> None:
    assert get_args(PurposeChoice) == PURPOSES


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"stanch {stanch_version()}"
    assert stanch_version() != "unknown"
