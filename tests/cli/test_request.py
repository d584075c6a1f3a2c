"""``stanch request file``: a request filed over HTTP with hashes from ``stanch hash`` (no file names)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from stanch.api.app import create_app
from stanch.cli import app
from stanch.desk.cases import find_request
from stanch.desk.tokens import token_matches
from stanch.store import Database


@pytest.fixture
def server(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API in a test client, reached by the command's HTTP calls."""
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        def post(url: str, json: Any, timeout: float) -> Any:
            assert url.startswith("http://stanch.test/")
            return client.post(url.removeprefix("http://stanch.test"), json=json)

        monkeypatch.setattr(httpx, "post", post)  # the command imports httpx when it runs
        yield client


def hash_file(tmp_path: Path) -> Path:
    picture = tmp_path / "private-name.png"
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).resize((256, 256)).save(picture)
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    result = CliRunner().invoke(app, ["hash", str(picture), str(tmp_path / "broken.jpg")])
    output = tmp_path / "hashes.jsonl"
    output.write_text(result.stdout)
    return output


ARGS = ["request", "file", "--name", "Robin Example", "--email", "robin@example.org", "--signature",
        "Robin Example", "--location", "https://example.org/a", "--location", "https://example.org/b",
        "--server", "http://stanch.test"]


def test_files_a_request_with_the_hashes_and_prints_the_receipt(
    server: TestClient, database: Database, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, [*ARGS, "--good-faith", "--hashes", str(hash_file(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "cannot be recovered" in result.output
    case = result.output.split("case ", 1)[1].split()[0]
    token = result.output.split("token ", 1)[1].split()[0]
    with database.read() as session:
        stored = find_request(session, case)
        assert token_matches(token, stored.token_hash)
        hashes = json.loads(stored.hashes)
    assert len(hashes) == 1 and hashes[0]["kind"] == "image" and "private-name" not in stored.hashes
    assert not stored.minor and "takeitdown" not in result.output


def test_under_18_files_a_minors_case_and_prints_where_to_get_help(server: TestClient,
                                                                 database: Database) -> None:
    result = CliRunner().invoke(app, [*ARGS, "--good-faith", "--under-18"])
    assert result.exit_code == 0, result.output
    assert "https://takeitdown.ncmec.org" in result.output
    case = result.output.split("case ", 1)[1].split()[0]
    with database.read() as session:
        assert find_request(session, case).minor


def test_a_refused_request_exits_1_and_says_why(server: TestClient) -> None:
    result = CliRunner().invoke(app, ARGS)
    assert result.exit_code == 1
    assert "good_faith" in result.output


def test_an_unreadable_hash_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "hashes.txt"
    bad.write_text("this is not json\n")
    result = CliRunner().invoke(app, [*ARGS, "--good-faith", "--hashes", str(bad)])
    assert result.exit_code == 2 and "line 1" in result.output
