"""``/v1/exchanges`` (scope ``admin``) against the StopNCII stand-in, and the scheduled fetch that
``stanch serve`` runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stanch.api.app import create_app
from stanch.exchange.live.fetcher import LEASE_SECONDS, take_lease
from stanch.exchange.live.scheduler import due_sources, exchange_in_server, fetch_due
from stanch.exchange.live.sources import add_source
from stanch.store import Database, create_bank, create_key
from stanch.store.audit_models import AuditEvent
from tests.exchange.stopncii_standin import CREDENTIALS, FUNCTION_KEY, SUBSCRIPTION_KEY, pdq, stopncii_standin

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(database: Database, monkeypatch) -> TestClient:
    monkeypatch.setenv("STANCH_EXCHANGE_FETCH", "0")
    monkeypatch.setenv("TEST_STOPNCII_KEYS", CREDENTIALS)
    with database.write() as session:
        create_bank(session, "ncii")
        admin = create_key(session, "admin", ["admin"])[1]
        bank = create_key(session, "bank", ["bank"])[1]
        matcher = create_key(session, "match", ["match"])[1]
    app = create_app(db=database, poll_interval=0.05, key_cache_seconds=0)
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {admin}"
        test_client.bank_key = bank  # type: ignore[attr-defined]
        test_client.match_key = matcher  # type: ignore[attr-defined]
        yield test_client


def test_configure_fetch_show_and_remove_over_http(client: TestClient, database: Database) -> None:
    with stopncii_standin() as standin:
        for i in range(15):
            standin.put("ImagePDQ", pdq(i))
        standin.put("ImagePDQ", pdq(2), "Withdrawn")
        body = {"name": "stopncii", "type": "stopncii", "bank": "ncii",
                "credentials_env": "TEST_STOPNCII_KEYS", "base_url": standin.url, "trust": "review",
                "schedule_seconds": 600}
        created = client.post("/v1/exchanges", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["credentials"] == {"env": "TEST_STOPNCII_KEYS"}
        assert client.post("/v1/exchanges", json=body).status_code == 409
        fetched = client.post("/v1/exchanges/stopncii/fetch")
        assert fetched.status_code == 200, fetched.text
        assert (fetched.json()["added"], fetched.json()["complete"]) == (14, True)
        as_matcher = {"Authorization": f"Bearer {client.match_key}"}  # type: ignore[attr-defined]
        held = client.post("/v1/match", json={"pdq": pdq(3)}, headers=as_matcher).json()
        withdrawn = client.post("/v1/match", json={"pdq": pdq(2)}, headers=as_matcher).json()
    assert (held["matched"], held["action"]) == (True, "review")  # matchable as soon as the fetch answers
    assert withdrawn["matched"] is False  # StopNCII says Withdrawn: never banked
    shown = client.get("/v1/exchanges/stopncii").json()
    assert shown["counts"] == {"added": 14, "withdrawn": 0, "quarantined": 0} and shown["quarantine"] == []
    listed = client.get("/v1/exchanges").json()["exchanges"]
    assert [s["name"] for s in listed] == ["stopncii"]
    for answer in (created.json(), fetched.json(), shown, listed):
        assert FUNCTION_KEY not in json.dumps(answer) and SUBSCRIPTION_KEY not in json.dumps(answer)
    assert client.delete("/v1/exchanges/stopncii").json() == {"removed": "stopncii"}
    assert client.get("/v1/exchanges/stopncii").status_code == 404
    with database.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions == ["exchange.add", "exchange.fetch", "exchange.remove"]


def test_admin_scope_and_bad_bodies(client: TestClient) -> None:
    bank_only = {"Authorization": f"Bearer {client.bank_key}"}  # type: ignore[attr-defined]
    assert client.get("/v1/exchanges", headers=bank_only).status_code == 403
    assert client.get("/v1/exchanges", headers={"Authorization": "Bearer nope"}).status_code == 401
    base = {"name": "s", "type": "stopncii", "bank": "ncii"}
    assert client.post("/v1/exchanges", json=base).status_code == 422  # no credentials source
    extra = {**base, "credentials_env": "K", "password": "x"}
    assert client.post("/v1/exchanges", json=extra).status_code == 422
    unknown_type = {**base, "type": "ftp", "credentials_env": "K"}
    assert client.post("/v1/exchanges", json=unknown_type).status_code == 422
    missing = client.post("/v1/exchanges", json={**base, "bank": "nope", "credentials_env": "K"})
    assert missing.status_code == 404 and "no bank named 'nope'" in missing.json()["detail"]
    assert client.post("/v1/exchanges/none/fetch").status_code == 404


def test_scheduled_fetch_takes_due_sources_once_across_processes(database: Database) -> None:
    with stopncii_standin() as standin:
        for i in range(5):
            standin.put("ImagePDQ", pdq(i))
        with database.write() as session:
            create_bank(session, "ncii")
            add_source(session, "a", type="stopncii", bank="ncii", credentials_env="K", base_url=standin.url,
                       schedule_seconds=600)
            add_source(session, "b", type="stopncii", bank="ncii", credentials_env="K", base_url=standin.url)
        env = {"K": CREDENTIALS}
        assert take_lease(database, "b", "another-server", T0)  # another process is fetching b
        first = fetch_due(database, clock=lambda: T0, environ=env)
        assert [(r.source, r.added) for r in first] == [("a", 5)]
        assert fetch_due(database, clock=lambda: T0 + timedelta(seconds=299), environ=env) == []
        assert due_sources(database, T0 + timedelta(seconds=LEASE_SECONDS)) == ["b"]  # its holder went quiet
        assert due_sources(database, T0 + timedelta(seconds=600)) == ["a", "b"]  # a's schedule came round


def test_the_server_fetches_unless_told_not_to(monkeypatch) -> None:
    monkeypatch.delenv("STANCH_EXCHANGE_FETCH", raising=False)
    assert exchange_in_server()
    monkeypatch.setenv("STANCH_EXCHANGE_FETCH", "0")
    assert not exchange_in_server()


def test_the_scheduler_thread_fetches_due_sources(database: Database, monkeypatch) -> None:
    import time

    from stanch.exchange.live.scheduler import ExchangeScheduler

    monkeypatch.setenv("K", CREDENTIALS)
    with stopncii_standin() as standin:
        standin.put("ImagePDQ", pdq(1))
        with database.write() as session:
            create_bank(session, "ncii")
            add_source(session, "a", type="stopncii", bank="ncii", credentials_env="K", base_url=standin.url)
        scheduler = ExchangeScheduler(database, interval=0.01, clock=lambda: T0)
        scheduler.start()
        try:
            deadline = time.monotonic() + 60
            while not standin.requests and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            scheduler.stop()
    with database.read() as session:
        from stanch.exchange.live.sources import get_source

        source = get_source(session, "a")
        assert (source.added, source.last_success_at) == (1, T0)


def test_a_threatexchange_source_over_http_needs_its_privacy_group(client: TestClient, monkeypatch) -> None:
    from tests.exchange.threatexchange_standin import GROUP, TOKEN, threatexchange_standin

    base = {"name": "te", "type": "threatexchange", "bank": "ncii", "credentials_env": "TEST_TX"}
    without = client.post("/v1/exchanges", json=base)
    assert without.status_code == 422 and "privacy group" in without.text
    with threatexchange_standin() as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        created = client.post("/v1/exchanges", json={**base, "privacy_group": GROUP, "base_url": standin.url})
        assert created.status_code == 201, created.text
        assert created.json()["privacy_group"] == GROUP
        monkeypatch.setenv("TEST_TX", TOKEN)
        fetched = client.post("/v1/exchanges/te/fetch").json()
    assert (fetched["added"], fetched["complete"]) == (1, True)
    assert TOKEN.partition("|")[2] not in json.dumps(client.get("/v1/exchanges/te").json())
