"""A bank fed by a StopNCII-shaped source (the stand-in on 127.0.0.1): paging and checkpoints,
withdrawals, quarantine of bad records and pages, rate limits and errors with backoff, the lease, and
credentials kept out of the status. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from threatexchange.exchanges.clients.stopncii import api as pytx_api
from threatexchange.exchanges.impl import stop_ncii_api as pytx_impl

from stanch.exchange.live.fetcher import LEASE_SECONDS, MAX_PAGE_ATTEMPTS, fetch_source, take_lease
from stanch.exchange.live.sources import add_source, get_source, quarantine_records, source_record
from stanch.store import Database, Entry, create_bank
from stanch.store.exchange_models import ExchangeSource
from tests.exchange.stopncii_standin import (
    CREDENTIALS,
    FUNCTION_KEY,
    SUBSCRIPTION_KEY,
    StandIn,
    pdq,
    stopncii_standin,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENV = {"STOPNCII_KEYS": CREDENTIALS}


def configure(db: Database, url: str, *, name: str = "stopncii", trust: str = "review") -> None:
    with db.write() as session:
        create_bank(session, "ncii")
        add_source(session, name, type="stopncii", bank="ncii", credentials_env="STOPNCII_KEYS",
                   base_url=url, trust=trust, threshold=28, schedule_seconds=900)


def fetch(db: Database, at: datetime = T0, **kwargs):
    return fetch_source(db, "stopncii", clock=lambda: at, environ=ENV, **kwargs)


def active(db: Database) -> dict[str, int]:
    """Active entries by external id, with how many of each (duplicates would show as 2)."""
    with db.read() as session:
        rows = session.execute(
            select(Entry.external_id, func.count())
            .where(Entry.withdrawn_at.is_(None))
            .group_by(Entry.external_id)
        )
        return {str(key): count for key, count in rows}


def fill(standin: StandIn, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        standin.put("ImagePDQ", pdq(i))


def test_fetch_pages_then_fetch_only_changes_and_apply_withdrawals(database: Database) -> None:
    with stopncii_standin() as standin:
        fill(standin, 25)
        standin.put("VideoMD5", "0123456789abcdef0123456789abcdef")
        standin.put("VideoTMK", "tmk-not-computed-by-stanch")
        configure(database, standin.url)

        first = fetch(database)
        assert (first.complete, first.error, first.pages) == (True, None, 3)
        assert (first.added, first.withdrawn, first.quarantined) == (26, 0, 0)
        assert first.skipped == {"StopNCII VideoTMK records (Stanch cannot match them)": 1}
        assert set(active(database).values()) == {1} and len(active(database)) == 26
        assert standin.requests[0]["startTimestamp"] == "10"  # pytx's DEFAULT_START_TIME
        assert [r.get("nextPageToken") for r in standin.requests] == [None, "10", "20"]

        standin.put("ImagePDQ", pdq(3), "Withdrawn")
        standin.put("ImagePDQ", pdq(4), "Deleted")
        fill(standin, 2, first=100)
        standin.requests.clear()
        second = fetch(database, T0 + timedelta(hours=1))
        assert (second.complete, second.added, second.withdrawn) == (True, 2, 2)
        assert int(standin.requests[0]["startTimestamp"]) > 1_700_000_000  # from the checkpoint
        held = active(database)
        assert f"ImagePDQ:{pdq(3)}" not in held and f"ImagePDQ:{pdq(4)}" not in held
        assert len(held) == 26

    with database.read() as session:
        source = get_source(session, "stopncii")
        record = source_record(session, source)
        reasons = dict(session.execute(select(Entry.external_id, Entry.withdrawn_reason)
                                       .where(Entry.withdrawn_at.is_not(None))).all())
        trusts = set(session.scalars(select(Entry.trust)))
    assert reasons == {f"ImagePDQ:{pdq(3)}": "stopncii withdrawn", f"ImagePDQ:{pdq(4)}": "stopncii deleted"}
    assert trusts == {"review"}
    assert record["counts"] == {"added": 28, "withdrawn": 2, "quarantined": 0}
    assert record["threshold"] == 28 and record["last_error"] is None
    assert record["next_fetch_at"] == (T0 + timedelta(hours=1, seconds=900)).isoformat()
    assert record["checkpoint"]["token"] is None


def test_pytx_stopncii_exchange_never_applies_withdrawals() -> None:
    """The bug Stanch works around: pytx compares hashValue (a string) with the case-status enum, so a
    Withdrawn record still comes out of its exchange as a live signal. If this starts failing, pytx
    has fixed it (see docs/exchange.md)."""
    record = pytx_api.StopNCIIHashRecord(
        lastModtimestamp=1, signalType=pytx_api.StopNCIISignalType.ImagePDQ, hashValue=pdq(1),
        hashStatus=pytx_api.StopNCIICaseStatus.Withdrawn, caseNumbers={},
    )
    _key, metadata = pytx_impl._get_delta_mapping(record)
    assert metadata is not None  # a withdrawal would be None


def test_bad_records_and_a_bad_record_list_are_quarantined_and_the_rest_goes_in(database: Database) -> None:
    with stopncii_standin() as standin:
        fill(standin, 5)
        standin.put("ImagePDQ", "not-a-pdq-hash")
        standin.put("ImagePDQ", pdq(50), hashStatus=7)
        fill(standin, 8, first=10)
        standin.faults["10"] = ["bad-records"]  # the second page's record list is not a list
        configure(database, standin.url)
        result = fetch(database)
    assert (result.complete, result.error) == (True, None)
    assert result.quarantined == 3  # two records and one page
    assert result.added == 15 - 2 - 5  # the 5 records of the bad page (offsets 10-14) are not in it
    with database.read() as session:
        source = get_source(session, "stopncii")
        kept = quarantine_records(session, source)
        assert source_record(session, source)["counts"]["quarantined"] == 3
    assert sorted(q["kind"] for q in kept) == ["page", "record", "record"]
    assert any("not-a-pdq-hash" in q["body"] for q in kept)
    assert any('"hashStatus" must be a string' in q["reason"] for q in kept)


def test_unreadable_page_is_retried_with_backoff_then_skipped_never_stalling(database: Database) -> None:
    with stopncii_standin() as standin:
        fill(standin, 30)
        standin.faults["10:10"] = ["not-json"] * 10  # page 2 of the run from the start is broken for good
        configure(database, standin.url)
        at, waits = T0, []
        for _ in range(MAX_PAGE_ATTEMPTS - 1):
            result = fetch(database, at)
            assert result.error is not None and "not JSON" in result.error and not result.complete
            assert result.next_fetch_at is not None
            waits.append(result.next_fetch_at - at)
            at = result.next_fetch_at
        last = fetch(database, at)
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    assert (last.complete, last.error, last.quarantined) == (True, None, 1)
    assert len(active(database)) == 30  # the skip restarted after page 1's time: nothing was lost here
    with database.read() as session:
        (page,) = quarantine_records(session, get_source(session, "stopncii"))
    assert page["kind"] == "page" and "upstream error" in page["body"] and "skipped after 3" in page["reason"]


def test_rate_limit_keeps_the_checkpoint_and_waits_for_retry_after(database: Database) -> None:
    with stopncii_standin() as standin:
        fill(standin, 25)
        standin.faults["10"] = ["429:600", "500"]
        configure(database, standin.url)
        limited = fetch(database)
        assert (limited.pages, limited.added, limited.complete) == (1, 10, False)
        assert limited.error is not None and "429" in limited.error
        assert limited.next_fetch_at == T0 + timedelta(seconds=600)
        failed = fetch(database, T0 + timedelta(seconds=600))
        assert failed.error == "StopNCII answered HTTP 500"
        assert failed.next_fetch_at == T0 + timedelta(seconds=600 + 120)  # second failure in a row
        standin.requests.clear()
        done = fetch(database, T0 + timedelta(seconds=720))
        assert standin.requests[0]["nextPageToken"] == "10"  # resumed where the committed page ended
    assert (done.complete, done.added) == (True, 15)
    assert len(active(database)) == 25
    with database.read() as session:
        source = get_source(session, "stopncii")
        assert (source.failures, source.last_error) == (0, None)


def test_one_fetcher_at_a_time_through_the_lease(database: Database) -> None:
    with stopncii_standin() as standin:
        fill(standin, 3)
        configure(database, standin.url)
        assert take_lease(database, "stopncii", "other-process", T0)
        assert not take_lease(database, "stopncii", "third-process", T0 + timedelta(seconds=1))
        busy = fetch(database, T0 + timedelta(seconds=1))
        assert not busy.fetched and standin.requests == []
        later = fetch(database, T0 + timedelta(seconds=LEASE_SECONDS + 1))  # the holder died: lease expired
    assert later.fetched and later.complete and later.added == 3
    with database.read() as session:
        source = session.scalars(select(ExchangeSource)).one()
        assert source.lease_owner is None


def test_credentials_come_from_the_environment_and_never_show(database: Database, caplog) -> None:
    with stopncii_standin() as standin:
        fill(standin, 2)
        configure(database, standin.url)
        caplog.set_level(logging.DEBUG)
        missing = fetch_source(database, "stopncii", clock=lambda: T0, environ={})
        assert missing.error == "the environment variable STOPNCII_KEYS is not set or empty"
        wrong = fetch_source(database, "stopncii", clock=lambda: T0 + timedelta(hours=1),
                             environ={"STOPNCII_KEYS": "wrong,keys"})
        assert wrong.error is not None and "refused the credentials (HTTP 401)" in wrong.error
        good = fetch(database, T0 + timedelta(hours=2))
    assert good.complete and good.added == 2
    with database.read() as session:
        shown = repr(source_record(session, get_source(session, "stopncii")))
        stored = repr([tuple(row) for row in session.execute(select(ExchangeSource.__table__))])
    for secret in (FUNCTION_KEY, SUBSCRIPTION_KEY):
        assert secret not in shown and secret not in stored and secret not in caplog.text


def test_credentials_from_a_file(database: Database, tmp_path) -> None:
    secret = tmp_path / "stopncii.keys"
    secret.write_text(CREDENTIALS + "\n")
    with stopncii_standin() as standin:
        fill(standin, 2)
        with database.write() as session:
            create_bank(session, "ncii")
            add_source(session, "stopncii", type="stopncii", bank="ncii", credentials_file=str(secret),
                       base_url=standin.url)
        result = fetch_source(database, "stopncii", clock=lambda: T0, environ={})
    assert result.complete and result.added == 2


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"credentials_env": "A", "credentials_file": "/x"}, "exactly one"),
        ({"credentials_env": "NOT A NAME"}, "environment variable"),
        ({"credentials_env": "A", "type": "carrier-pigeon"}, "source type"),
        ({"credentials_env": "A", "schedule_seconds": 5}, "at least 60"),
        ({"credentials_env": "A", "trust": "maybe"}, "trust"),
    ],
)
def test_bad_settings_are_refused(session, settings, message) -> None:
    create_bank(session, "ncii")
    with pytest.raises(ValueError, match=message):
        add_source(session, "s", **{"type": "stopncii", "bank": "ncii", **settings})


def test_migration_matches_the_models(database: Database) -> None:
    from stanch.store.exchange_models import QuarantinedItem
    from stanch.store.outbox_models import OutboxMessage
    from tests.schema_check import assert_migration_matches_model

    for model in (ExchangeSource, QuarantinedItem, OutboxMessage):
        assert_migration_matches_model(database, model)


def test_huge_and_deeply_nested_pages_are_refused_unread(database: Database, monkeypatch) -> None:
    from stanch.exchange.live import stopncii as client_module

    monkeypatch.setattr(client_module, "MAX_PAGE_BYTES", 50_000)
    with stopncii_standin() as standin:
        fill(standin, 3)
        standin.faults[""] = ["huge", "deep"]
        configure(database, standin.url)
        huge = fetch(database)
        deep = fetch(database, T0 + timedelta(hours=1))
        fine = fetch(database, T0 + timedelta(hours=2))
    assert huge.error == "the page is larger than 50000 bytes"
    assert deep.error == "the page is JSON nested too deeply to read"
    assert (fine.complete, fine.added) == (True, 3)


def test_two_fetchers_at_once_one_fetches_the_other_stands_aside(database: Database, db_url) -> None:
    import threading

    from stanch.store import open_database

    other = open_database(db_url, migrate=False)  # a second process's own engine and connections
    with stopncii_standin() as standin:
        fill(standin, 15)
        gate = standin.gates[""] = threading.Event()  # the first fetch waits inside its first page
        configure(database, standin.url)
        results = {}
        first = threading.Thread(target=lambda: results.setdefault("first", fetch(database)))
        first.start()
        for _ in range(6000):  # until the first fetch holds the lease and waits on its first page
            if standin.requests:
                break
            first.join(0.01)
        assert standin.requests, "the first fetch never asked for a page"
        second = fetch_source(other, "stopncii", clock=lambda: T0, environ=ENV)
        gate.set()
        first.join(60)
    other.dispose()
    assert not second.fetched and second.pages == 0
    assert results["first"].fetched and results["first"].added == 15
    assert len(standin.requests) == 2  # the first fetch's two pages, nothing from the second
