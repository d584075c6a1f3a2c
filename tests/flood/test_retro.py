"""Retroactive matching: uploads logged by /v1/match (with an item id) found by entries banked later,
as copies of the case that banked them or as ``upload.matched`` webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from stanch.desk.audit import events
from stanch.matching.query import hash_query
from stanch.runtime import Settings, Stanch, upload_log_days
from stanch.store import add_entry, create_bank, entry_from_hashes
from stanch.store.desk_models import RequestItem
from stanch.store.entry_stats import log_uploads, prune_upload_log, uploads_since
from stanch.store.outbox_models import OutboxMessage
from stanch.sweep.retro import UploadLog, check_new_entries
from tests.api.conftest import Api
from tests.api.test_appeals import _removed
from tests.desk.factory import picture_record
from tests.flood.test_flood_guard import near

BEFORE = datetime.now(UTC) - timedelta(minutes=30)
"""When the test uploads were logged: before the entries the tests bank (stamped with the wall clock)."""
LATER = datetime.now(UTC) + timedelta(hours=1)
"""An upload logged after the entry: the live index answered it."""


def _hooks(db, kind: str) -> list[dict]:
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == kind)
                               .order_by(OutboxMessage.id)).all()
        return [json.loads(r.payload) for r in rows]


def test_lookups_with_an_item_id_are_logged_hash_and_id_only(database) -> None:
    app = Stanch(database, Settings(upload_log_days=30, dispatch=False, exchange_fetch=False),
                 clock=lambda: BEFORE)
    app.load_banks()
    pdq = "ab" * 32
    app.lookup([hash_query(pdq, 100), hash_query("cd" * 32, 100), hash_query("ef" * 32, 10)],
               ["post/1", None, "post/3"])  # no id: not logged; quality 10: no usable hash to log
    app.flood.flush(BEFORE)
    with database.read() as session:
        assert uploads_since(session, 0) == [(1, bytes.fromhex(pdq))]
    off = Stanch(database, Settings(dispatch=False, exchange_fetch=False))
    off.lookup([hash_query(pdq, 100)], ["post/9"])
    assert off.flood.flush(BEFORE).logged == 0


def test_a_new_entry_without_a_case_finds_earlier_uploads_as_webhooks_once(database) -> None:
    pdq = np.random.default_rng(5).integers(0, 256, 32, dtype=np.uint8).tobytes()
    log = UploadLog(database)
    check_new_entries(database, log, BEFORE)  # the log starts: entries from now on are checked
    with database.write() as session:
        log_uploads(session, [(bytes.fromhex(near(pdq, 1, 8)), "post/near", BEFORE),
                              (bytes.fromhex(near(pdq, 2, 100)), "post/far", BEFORE),
                              (bytes.fromhex(near(pdq, 3, 4)), "post/later", LATER)])
    with database.write() as session:
        bank = create_bank(session, "partner", trust="review")
        entry = add_entry(session, bank, entry_from_hashes(pdq=pdq.hex()))
    done = check_new_entries(database, log, BEFORE)
    assert (done.entries, done.webhooks, done.copies) == (1, 1, 0)
    (hook,) = _hooks(database, "upload.matched")
    assert hook["item_id"] == "post/near" and hook["entry"] == entry and hook["bank"] == "partner"
    assert hook["distance"] == 8 and hook["action"] == "review"
    assert check_new_entries(database, log, BEFORE).entries == 0  # checked once
    with database.read() as session:
        (event,) = [e for e in events(session) if e.action == "entry.retro_matched"]
        assert json.loads(event.details)["uploads"] == 1
    assert len(log) == 3


def test_a_case_banked_by_a_removal_gets_the_earlier_uploads_as_copies(api: Api) -> None:
    record = picture_record(11)
    pdq = bytes.fromhex(record["pdq"])
    log = UploadLog(api.db)
    check_new_entries(api.db, log, BEFORE)
    with api.db.write() as session:
        log_uploads(session, [(bytes.fromhex(near(pdq, 1, 6)), "post/copy", BEFORE)])
    case = _removed(api, [{"pdq": record["pdq"]}], "post/original")
    done = check_new_entries(api.db, log, datetime.now(UTC))
    assert done.copies == 1 and done.webhooks == 0, done
    with api.db.read() as session:
        copy = session.scalars(select(RequestItem).where(RequestItem.item_id == "post/copy")).one()
        assert copy.origin == "copy" and copy.signal == "pdq" and copy.removal_sent_at is not None
    assert "post/copy" in [h["item_id"] for h in _hooks(api.db, "remove_item")]
    assert _hooks(api.db, "upload.matched") == []
    assert case.startswith("STN-")


def test_pruned_uploads_leave_memory_and_are_not_found(database) -> None:
    pdq = np.random.default_rng(6).integers(0, 256, 32, dtype=np.uint8).tobytes()
    with database.write() as session:
        log_uploads(session, [(bytes.fromhex(near(pdq, 1, 3)), "post/old", BEFORE - timedelta(days=40)),
                              (bytes.fromhex(near(pdq, 2, 3)), "post/new", BEFORE)])
    log = UploadLog(database)
    log.load()
    assert len(log) == 2
    with database.write() as session:
        assert prune_upload_log(session, BEFORE - timedelta(days=30)) == 1
    with database.read() as session:
        log.follow(session)
    assert len(log) == 1
    assert [m.distance for m in log.search((("original", pdq.hex()),), 31)] == [3]


def test_the_upload_log_settings() -> None:
    assert upload_log_days({}) is None and upload_log_days({"STANCH_UPLOAD_LOG": "1"}) == 30
    assert upload_log_days({"STANCH_UPLOAD_LOG": "1", "STANCH_UPLOAD_LOG_DAYS": "7"}) == 7
    with pytest.raises(ValueError, match="STANCH_UPLOAD_LOG_DAYS"):
        upload_log_days({"STANCH_UPLOAD_LOG": "1", "STANCH_UPLOAD_LOG_DAYS": "-1"})


def test_the_match_api_takes_an_item_id_and_logs_it_when_the_log_is_on(database, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from stanch.api.app import create_app
    from stanch.store import create_key

    monkeypatch.setenv("STANCH_UPLOAD_LOG", "1")
    with database.write() as session:
        key = create_key(session, "match", ["match"])[1]
    headers = {"Authorization": f"Bearer {key}"}
    app = create_app(db=database, poll_interval=0.05, key_cache_seconds=0)
    with TestClient(app) as client:
        one = client.post("/v1/match", headers=headers, json={"pdq": "ab" * 32, "item_id": "post/1"})
        assert one.status_code == 200 and one.json()["action"] == "none"
        batch = client.post("/v1/match/batch", headers=headers,
                            json={"items": [{"pdq": "cd" * 32, "item_id": "post/2"}, {"pdq": "ef" * 32}]})
        assert batch.status_code == 200 and len(batch.json()["results"]) == 2
        long = client.post("/v1/match", headers=headers, json={"pdq": "ab" * 32, "item_id": "x" * 501})
        assert long.status_code == 422 and "item_id" in long.text
        client.app.state.stanch.flood.flush(datetime.now(UTC))
    with database.read() as session:
        assert [pdq.hex() for _, pdq in uploads_since(session, 0)] == ["ab" * 32, "cd" * 32]
