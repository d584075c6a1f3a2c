"""A setting that cannot work is one line naming the variable, exit status 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _stanch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("STANCH_")} | env
    return subprocess.run([sys.executable, "-c", "from stanch.cli import main; main()", *args],
                          capture_output=True, text=True, env=environ, timeout=120, check=False)


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]


def test_a_url_that_is_not_one() -> None:
    _one_line(_stanch("keys", "list", STANCH_DATABASE_URL="foo"), "STANCH_DATABASE_URL", "'foo'")


def test_an_unsupported_database() -> None:
    _one_line(_stanch("keys", "list", STANCH_DATABASE_URL="mysql://127.0.0.1/x"), "STANCH_DATABASE_URL",
              "mysql")


def test_an_unreachable_postgresql(unused_port: int) -> None:
    url = f"postgresql://127.0.0.1:{unused_port}/test"
    _one_line(_stanch("keys", "list", STANCH_DATABASE_URL=url), "STANCH_DATABASE_URL", "cannot connect")


def test_a_sqlite_folder_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/stanch.db"
    _one_line(_stanch("keys", "list", STANCH_DATABASE_URL=url), "STANCH_DATABASE_URL", "does not exist")
    assert not (tmp_path / "missing").exists()


def test_a_webhook_without_its_secret_stops_serve(tmp_path: Path) -> None:
    result = _stanch("serve", "--port", "1", STANCH_DATABASE_URL=f"sqlite:///{tmp_path}/stanch.db",
                     STANCH_WEBHOOK_URL="http://127.0.0.1:9/hook")
    _one_line(result, "STANCH_WEBHOOK_SECRET")


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("variable", ["STANCH_PRUNE_HOURS", "STANCH_COPY_REVIEW_HOURS"])
def test_a_malformed_schedule_stops_serve(tmp_path: Path, variable: str) -> None:
    result = _stanch("serve", "--port", "1", STANCH_DATABASE_URL=f"sqlite:///{tmp_path}/stanch.db",
                     **{variable: "daily"})
    _one_line(result, variable)
