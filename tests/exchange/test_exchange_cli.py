"""``stanch exchange`` through the real command, and a fetch killed with SIGKILL mid-run that resumes
from its committed checkpoint with nothing lost and nothing twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from stanch.cli import app
from stanch.exchange.live.fetcher import LEASE_SECONDS, Checkpoint, fetch_source
from stanch.exchange.live.sources import get_source
from stanch.store import Entry, open_database, utcnow
from tests.exchange.stopncii_standin import CREDENTIALS, FUNCTION_KEY, SUBSCRIPTION_KEY, pdq, stopncii_standin

STANCH = str(Path(sys.executable).parent / "stanch")


def _run(db_url: str, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url, **(env or {})})


def _lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_add_list_fetch_status_show_remove(db_url: str) -> None:
    assert _run(db_url, "bank", "create", "ncii").exit_code == 0
    with stopncii_standin() as standin:
        for i in range(12):
            standin.put("ImagePDQ", pdq(i))
        standin.put("ImagePDQ", "bad")
        added = _run(db_url, "exchange", "add", "stopncii", "--type", "stopncii", "--bank", "ncii",
                     "--credentials-env", "TEST_STOPNCII_KEYS", "--base-url", standin.url,
                     "--trust", "review", "--threshold", "20", "--schedule", "600")
        assert added.exit_code == 0, added.output
        assert _lines(added)[0]["credentials"] == {"env": "TEST_STOPNCII_KEYS"}
        twice = _run(db_url, "exchange", "add", "stopncii", "--type", "stopncii", "--bank", "ncii",
                     "--credentials-env", "X")
        assert twice.exit_code == 1 and "already exists" in twice.stderr
        unset = _run(db_url, "exchange", "fetch", "stopncii")
        assert unset.exit_code == 1 and "TEST_STOPNCII_KEYS is not set" in unset.stderr
        fetched = _run(db_url, "exchange", "fetch", "--restart", env={"TEST_STOPNCII_KEYS": CREDENTIALS})
        assert fetched.exit_code == 0, fetched.output
        summary = _lines(fetched)[0]
        assert (summary["added"], summary["quarantined"], summary["complete"]) == (12, 1, True)
    (status,) = _lines(_run(db_url, "exchange", "status"))
    assert status["counts"] == {"added": 12, "withdrawn": 0, "quarantined": 1}
    assert status["last_error"] is None
    (listed,) = _lines(_run(db_url, "exchange", "list"))
    assert (listed["trust"], listed["threshold"], listed["schedule_seconds"]) == ("review", 20, 600)
    (shown,) = _lines(_run(db_url, "exchange", "show", "stopncii"))
    assert [q["body"] for q in shown["quarantine"]] and '"bad"' in shown["quarantine"][0]["body"]
    for output in (status, listed, shown, summary):
        assert FUNCTION_KEY not in json.dumps(output) and SUBSCRIPTION_KEY not in json.dumps(output)
    assert _run(db_url, "exchange", "remove", "stopncii").exit_code == 0
    assert _lines(_run(db_url, "exchange", "list")) == []
    missing = _run(db_url, "exchange", "show", "stopncii")
    assert missing.exit_code == 1 and "no exchange source named 'stopncii'" in missing.stderr


def test_sigkill_mid_fetch_resumes_without_loss_or_duplicates(db_url: str) -> None:
    assert _run(db_url, "bank", "create", "ncii").exit_code == 0
    db = open_database(db_url, migrate=False)
    with stopncii_standin() as standin:
        for i in range(45):
            standin.put("ImagePDQ", pdq(i))
        gate = standin.gates["20"] = threading.Event()  # page 3 waits until the process is dead
        assert _run(db_url, "exchange", "add", "stopncii", "--type", "stopncii", "--bank", "ncii",
                    "--credentials-env", "TEST_STOPNCII_KEYS", "--base-url", standin.url).exit_code == 0
        env = {**os.environ, "STANCH_DATABASE_URL": db_url, "TEST_STOPNCII_KEYS": CREDENTIALS}
        process = subprocess.Popen([STANCH, "exchange", "fetch", "stopncii"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        checkpoint = Checkpoint()
        deadline = time.monotonic() + 60
        while checkpoint.token != "20" and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
            with db.read() as session:
                checkpoint = Checkpoint.load(get_source(session, "stopncii").checkpoint)
        assert checkpoint.token == "20", "the fetch did not commit two pages"
        process.send_signal(signal.SIGKILL)
        process.wait()
        gate.set()
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Entry)) == 20  # two pages, committed
        standin.requests.clear()
        later = utcnow() + timedelta(seconds=LEASE_SECONDS + 1)  # the dead process's lease has expired
        keys = {"TEST_STOPNCII_KEYS": CREDENTIALS}
        resumed = fetch_source(db, "stopncii", clock=lambda: later, environ=keys)
        assert standin.requests[0]["nextPageToken"] == "20"
    assert (resumed.complete, resumed.pages, resumed.added, resumed.unchanged) == (True, 3, 25, 0)
    with db.read() as session:
        ids = list(session.scalars(select(Entry.external_id)))
        source = get_source(session, "stopncii")
    db.dispose()
    assert sorted(ids) == sorted(f"ImagePDQ:{pdq(i)}" for i in range(45))  # all, each once
    assert source.added == 45 and source.lease_owner is None
