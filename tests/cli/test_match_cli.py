"""``stanch match PATH...``: one JSON line per file against the banks in the database, no server."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stanch.cli import app
from stanch.signals import hash_media
from stanch.store import Database, Provenance, add_entry, create_bank, entry_from_hashes, entry_from_signals
from tests.api.conftest import MIRROR_VIEWS, encoded, picture


def run(db_url: str, *args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(app, ["match", *args], env={"STANCH_DATABASE_URL": db_url})
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_folder_is_matched_file_by_file(database: Database, db_url: str, tmp_path: Path) -> None:
    banked = encoded(picture(31))
    with database.write() as session:
        bank = create_bank(session, "ncii")
        signals = hash_media(banked, purpose="bank")
        entry = add_entry(session, bank, entry_from_signals(signals, Provenance(source="a.png")))
        review = create_bank(session, "partner", trust="review")
        add_entry(session, review, entry_from_hashes(md5=hash_media(banked).md5))
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    (folder / "copy.jpg").write_bytes(encoded(picture(31), "JPEG", quality=50))
    (folder / "sub" / "mirrored.png").write_bytes(encoded(np.ascontiguousarray(picture(31)[:, ::-1])))
    (folder / "sub" / "same.png").write_bytes(banked)
    (folder / "unrelated.png").write_bytes(encoded(picture(32)))

    status, lines = run(db_url, str(folder))
    assert status == 0
    by_name = {Path(line["path"]).name: line for line in lines}
    names = ["copy.jpg", "mirrored.png", "same.png", "unrelated.png"]
    assert [Path(line["path"]).name for line in lines] == names
    assert by_name["copy.jpg"]["matched"] is True
    assert by_name["copy.jpg"]["action"] == "block"
    assert by_name["copy.jpg"]["matches"][0]["entry"] == entry
    assert by_name["mirrored.png"]["matches"][0]["hash"] in MIRROR_VIEWS
    same = by_name["same.png"]
    assert [(m["bank"], m["signal"], m.get("also")) for m in same["matches"]] == [
        ("ncii", "sha256", ["md5", "pdq"]), ("partner", "md5", None)
    ]  # fmt: skip
    assert same["action"] == "block"
    unrelated = by_name["unrelated.png"]
    assert unrelated["path"] == str(folder / "unrelated.png")
    assert (unrelated["matched"], unrelated["action"], unrelated["matches"]) == (False, "none", [])


def test_unreadable_files_get_error_lines_and_exit_status_1(db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    good.write_bytes(encoded(picture(33)))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    status, lines = run(db_url, str(bad), str(good), str(tmp_path / "missing.png"))
    assert status == 1
    assert [set(line) >= {"path", "error"} for line in lines] == [True, False, True]
    assert {"path", "matched", "action", "matches"} <= set(lines[1])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_workers_give_the_same_lines(database: Database, db_url: str, tmp_path: Path, workers: str) -> None:
    with database.write() as session:
        signals = hash_media(encoded(picture(40)), purpose="bank")
        add_entry(session, create_bank(session, "ncii"), entry_from_signals(signals))
    folder = tmp_path / "pictures"
    folder.mkdir()
    for seed in range(40, 44):
        Image.fromarray(picture(seed)).save(folder / f"{seed}.png")
    status, lines = run(db_url, "--workers", workers, str(folder))
    assert status == 0
    assert [line["matched"] for line in lines] == [True, False, False, False]
