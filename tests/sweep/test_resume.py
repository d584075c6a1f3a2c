"""A sweep killed with SIGKILL mid-run and run again: nothing committed is hashed again, nothing is
skipped, and the two runs' outputs together report every planted copy exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from stanch.store import open_database
from stanch.store.sweep_models import CatalogItem, Sweep
from tests.sweep.conftest import bank_seed, write_catalog

ITEMS = 160
PLANTED = {12, 80, 150}
STANCH = str(Path(sys.executable).parent / "stanch")


def _sweep(folder: Path, db_url: str, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STANCH_DATABASE_URL": db_url}
    with out.open("wb") as stdout:
        return subprocess.Popen([STANCH, "sweep", str(folder), "--workers", "1", "--batch", "4"],
                                stdout=stdout, stderr=subprocess.PIPE, env=env)


def _lines(path: Path) -> list[dict[str, object]]:
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]  # a line cut by the kill is not a line
    return [json.loads(line) for line in complete.splitlines()]


def test_resume_after_sigkill_hashes_nothing_twice_and_skips_nothing(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    write_catalog(folder, range(1, ITEMS + 1))
    db = open_database(db_url, migrate=False)
    for seed in sorted(PLANTED):
        bank_seed(db, seed)

    first = _sweep(folder, db_url, tmp_path / "first.jsonl")
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 12 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
        with db.read() as session:
            committed = session.scalar(select(func.count()).select_from(CatalogItem)) or 0
    first.send_signal(signal.SIGKILL)
    first.wait()
    with db.read() as session:
        before = {r.key: r.hashed_at for r in session.scalars(select(CatalogItem))}
        assert session.scalars(select(Sweep)).one().status == "running"
    assert 12 <= len(before) < ITEMS, "the sweep was not killed mid-run"

    second = _sweep(folder, db_url, tmp_path / "second.jsonl")
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 0, stderr.decode()
    assert b"resuming sweep 1" in stderr
    summary = json.loads(stderr.decode().strip().splitlines()[-1])["summary"]
    assert summary["done_before"] == len(before)
    assert summary["hashed"] == ITEMS - len(before)

    with db.read() as session:
        rows = {r.key: r for r in session.scalars(select(CatalogItem))}
        sweep = session.scalars(select(Sweep)).one()
    db.dispose()
    assert len(rows) == ITEMS and all(r.record and r.sweep_id == sweep.id for r in rows.values())
    assert all(rows[key].hashed_at == hashed_at for key, hashed_at in before.items())  # not hashed again
    assert (sweep.status, sweep.items, sweep.hashed) == ("finished", ITEMS, ITEMS)
    reported = [line["path"] for line in _lines(tmp_path / "first.jsonl") + _lines(tmp_path / "second.jsonl")]
    assert sorted(reported) == sorted(str(folder / f"item-{seed}.jpg") for seed in PLANTED)
