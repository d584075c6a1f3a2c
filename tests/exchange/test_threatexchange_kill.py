"""A ThreatExchange fetch through the real ``stanch exchange`` command, killed with SIGKILL after two
committed pages, resumes from the stored cursor (which holds no access token) with nothing lost and
nothing twice (SQLite and PostgreSQL)."""

from __future__ import annotations

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
from tests.exchange.stopncii_standin import pdq
from tests.exchange.threatexchange_standin import GROUP, TOKEN, TEStandIn, threatexchange_standin

STANCH = str(Path(sys.executable).parent / "stanch")


def _run(db_url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"STANCH_DATABASE_URL": db_url})


def test_sigkill_mid_threatexchange_fetch_resumes_from_the_cursor(db_url: str) -> None:
    assert _run(db_url, "bank", "create", "te").exit_code == 0
    db = open_database(db_url, migrate=False)
    with threatexchange_standin(TEStandIn(page_size=5)) as standin:
        for i in range(1, 14):
            standin.put(i, "HASH_PDQ", pdq(i))
        gate = standin.gates["10"] = threading.Event()  # page 3 waits until the process is dead
        added = _run(db_url, "exchange", "add", "te", "--type", "threatexchange", "--bank", "te",
                     "--credentials-env", "TEST_TX_TOKEN", "--base-url", standin.url,
                     "--privacy-group", str(GROUP))
        assert added.exit_code == 0, added.output
        env = {**os.environ, "STANCH_DATABASE_URL": db_url, "TEST_TX_TOKEN": TOKEN}
        process = subprocess.Popen([STANCH, "exchange", "fetch", "te"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        checkpoint, text = Checkpoint(), ""
        deadline = time.monotonic() + 60
        while "after=10" not in (checkpoint.token or "") and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
            with db.read() as session:
                text = get_source(session, "te").checkpoint or ""
            checkpoint = Checkpoint.load(text)
        assert "after=10" in (checkpoint.token or ""), "the fetch did not commit two pages"
        process.send_signal(signal.SIGKILL)
        process.wait()
        gate.set()
        assert TOKEN.partition("|")[2] not in text
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Entry)) == 10  # two pages, committed
        standin.requests.clear()
        later = utcnow() + timedelta(seconds=LEASE_SECONDS + 1)  # the dead process's lease has expired
        resumed = fetch_source(db, "te", clock=lambda: later, environ={"TEST_TX_TOKEN": TOKEN})
        assert standin.requests[0]["after"] == "10" and standin.requests[0]["access_token"] == TOKEN
    assert (resumed.complete, resumed.pages, resumed.added, resumed.unchanged) == (True, 1, 3, 0)
    with db.read() as session:
        ids = list(session.scalars(select(Entry.external_id)))
        source = get_source(session, "te")
    db.dispose()
    assert sorted(ids, key=int) == [str(i) for i in range(1, 14)]  # all, each once
    assert source.added == 13 and source.lease_owner is None
