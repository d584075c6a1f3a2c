"""A bank fed by an NCMEC-shaped source (the stand-in on 127.0.0.1): paging within one time range,
tombstones withdrawing, a bad entry quarantined, an unreadable page retried, the range's end as the
next start (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from stanch.exchange.live.fetcher import Checkpoint, fetch_source
from stanch.exchange.live.ncmec import NCMECClient
from stanch.exchange.live.sources import add_source, get_source, quarantine_records, source_record
from stanch.store import Database, Entry, create_bank
from tests.exchange.ncmec_standin import CREDENTIALS, PASSWORD, NcmecStandIn, ncmec_standin
from tests.exchange.stopncii_standin import pdq

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW = 1_800_000_000


def client_factory(now: list[int]):
    def build(source, credentials):
        return NCMECClient(credentials, source.base_url, now=lambda: now[0])
    return build


def configure(db: Database, url: str) -> None:
    with db.write() as session:
        create_bank(session, "ncmec")
        add_source(session, "ncmec", type="ncmec", bank="ncmec", credentials_env="NCMEC", base_url=url)


def fetch(db: Database, now: list[int], at: datetime = T0, keys: str = CREDENTIALS):
    return fetch_source(db, "ncmec", clock=lambda: at, environ={"NCMEC": keys},
                        client_factory=client_factory(now))


def active(db: Database) -> list[str]:
    with db.read() as session:
        query = select(Entry.external_id).where(Entry.withdrawn_at.is_(None))
        return sorted(str(e) for e in session.scalars(query))


def test_pages_of_a_range_then_the_next_range_with_tombstones(database: Database) -> None:
    now = [NOW]
    with ncmec_standin(NcmecStandIn(page_size=4)) as standin:
        for i in range(1, 10):
            standin.add(i, NOW - 1000 + i, pdq=pdq(i), md5=f"{i:032x}")
        standin.add(10, NOW - 500, kind="video", md5="a" * 32)
        standin.add(11, NOW - 400, kind="video", tmk_pdqf="not used")
        configure(database, standin.url)
        first = fetch(database, now)
        assert (first.complete, first.error, first.pages, first.added) == (True, None, 3, 10)
        assert first.skipped == {"NCMEC video entries without a PDQ or MD5": 1}
        assert [r.get("start") for r in standin.requests] == [None, "4", "8"]
        with database.read() as session:
            checkpoint = Checkpoint.load(get_source(session, "ncmec").checkpoint)
        assert (checkpoint.start, checkpoint.token) == (NOW - 5, None)  # the range's end

        standin.entries[2]["deleted"], standin.entries[2]["ts"] = True, NOW + 10  # entry 3 deleted
        standin.add(12, NOW + 20, pdq=pdq(12))
        standin.requests.clear()
        now[0] = NOW + 100
        second = fetch(database, now, T0 + timedelta(hours=1))
    assert (second.complete, second.added, second.withdrawn) == (True, 1, 1)
    assert standin.requests[0]["from"] == datetime.fromtimestamp(NOW - 5, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    held = active(database)
    assert "42:3" not in held and "42:12" in held and len(held) == 10
    with database.read() as session:
        kinds = dict(session.execute(select(Entry.external_id, Entry.kind)).all())
        assert kinds["42:10"] == "video" and kinds["42:1"] == "image"


def test_a_bad_entry_is_quarantined_and_an_unreadable_page_retried(database: Database) -> None:
    now = [NOW]
    with ncmec_standin(NcmecStandIn(page_size=3)) as standin:
        for i in range(1, 7):
            standin.add(i, NOW - 100 + i, pdq=pdq(i))
        standin.faults = {1: ["bad-entry"], 2: ["not-xml"]}
        configure(database, standin.url)
        failed = fetch(database, now)
        assert failed.error is not None and "not XML" in failed.error and failed.pages == 1
        resumed = fetch(database, now, T0 + timedelta(minutes=1))
        assert standin.requests[-1].get("start") == "3"  # resumed within the same range
    assert (resumed.complete, resumed.added) == (True, 3)
    assert len(active(database)) == 5  # the entry without an id is the one left out
    with database.read() as session:
        source = get_source(session, "ncmec")
        (kept,) = quarantine_records(session, source)
        record = source_record(session, source)
    assert kept["kind"] == "record" and "not an NCMEC entry" in kept["reason"]
    assert record["counts"] == {"added": 5, "withdrawn": 0, "quarantined": 1}


def test_wrong_credentials_and_no_base_url(database: Database) -> None:
    now = [NOW]
    with ncmec_standin() as standin:
        configure(database, standin.url)
        wrong = fetch(database, now, keys="esp-user:nope")
    assert wrong.error == "NCMEC refused the credentials (HTTP 401)"
    with database.write() as session:
        add_source(session, "nourl", type="ncmec", bank="ncmec", credentials_env="NCMEC")
    missing = fetch_source(database, "nourl", clock=lambda: T0, environ={"NCMEC": CREDENTIALS})
    assert missing.error is not None and "needs --base-url" in missing.error
    with database.read() as session:
        assert PASSWORD not in repr(source_record(session, get_source(session, "ncmec")))
