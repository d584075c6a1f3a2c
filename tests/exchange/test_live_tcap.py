"""A bank fed by Tech Against Terrorism's TCAP hash list (the stand-in on 127.0.0.1): one login per
fetch, pages asked for after the previous page's checkpoint, the last checkpoint kept for the next
fetch, deletions withdrawing, bad records and pages quarantined, errors and 429 with backoff
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from stanch.exchange.live.fetcher import MAX_PAGE_ATTEMPTS, Checkpoint, fetch_source
from stanch.exchange.live.sources import add_source, get_source, quarantine_records, source_record
from stanch.store import Database, Entry, create_bank
from tests.exchange.stopncii_standin import pdq
from tests.exchange.tcap_standin import CREDENTIALS, JWT, PASSWORD, TCAPStandIn, tcap_standin

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def configure(db: Database, url: str) -> None:
    with db.write() as session:
        create_bank(session, "tcap")
        add_source(session, "tcap", type="tcap", bank="tcap", credentials_env="TCAP", base_url=url)


def fetch(db: Database, at: datetime = T0, keys: str = CREDENTIALS):
    return fetch_source(db, "tcap", clock=lambda: at, environ={"TCAP": keys})


def active(db: Database) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(select(Entry.external_id, func.count()).where(Entry.withdrawn_at.is_(None))
                               .group_by(Entry.external_id))
        return {str(key): count for key, count in rows}


def saved(db: Database) -> tuple[Checkpoint, str]:
    with db.read() as session:
        text = get_source(session, "tcap").checkpoint or ""
    return Checkpoint.load(text), text


def test_pages_after_each_checkpoint_then_only_what_follows(database: Database) -> None:
    with tcap_standin(TCAPStandIn(page_size=2)) as standin:
        for i in range(1, 5):
            standin.put("PDQ", pdq(i))
        standin.put("MD5", "a" * 32, file_type="mp4")
        standin.put("MD5", "b" * 32, file_type="jpg")  # an MD5 of a picture: pytx maps it to nothing
        configure(database, standin.url)
        first = fetch(database)
        assert (first.complete, first.error, first.pages, first.added) == (True, None, 3, 5)
        assert first.skipped == {"TCAP MD5 hashes of jpg files (Stanch cannot match them)": 1}
        afters = [r.get("after", "") for r in standin.requests]
        assert standin.logins == 1 and afters == ["", "1704085202,102", "1704085204,104"]
        done, text = saved(database)
        assert done.token == "1704085206,106" and done.start == 1704085206
        assert JWT not in text and PASSWORD not in text

        standin.put("PDQ", pdq(2), deleted=True)
        standin.put("PDQ", pdq(9))
        standin.requests.clear()
        second = fetch(database, T0 + timedelta(hours=1))
    assert standin.requests[0]["after"] == "1704085206,106" and standin.requests[0]["order"] == "asc"
    assert (second.complete, second.added, second.withdrawn) == (True, 1, 1)
    held = active(database)
    assert f"PDQ:{pdq(2)}" not in held and f"PDQ:{pdq(9)}" in held and set(held.values()) == {1}
    with database.read() as session:
        kinds = dict(session.execute(select(Entry.external_id, Entry.kind)).all())
    assert kinds["MD5:" + "a" * 32] == "video"


def test_an_error_resumes_after_the_last_committed_page(database: Database) -> None:
    with tcap_standin(TCAPStandIn(page_size=2)) as standin:
        for i in range(1, 6):
            standin.put("PDQ", pdq(i))
        standin.faults = {"1704085202,102": ["429:90"]}
        configure(database, standin.url)
        limited = fetch(database)
        assert limited.error is not None and "rate limited" in limited.error and limited.pages == 1
        assert limited.next_fetch_at == T0 + timedelta(seconds=90)
        resumed = fetch(database, T0 + timedelta(minutes=2))
        assert standin.requests[-2]["after"] == "1704085202,102"
    assert (resumed.complete, resumed.added) == (True, 3)
    assert len(active(database)) == 5


def test_bad_records_and_pages_are_quarantined_and_unreadable_ones_skipped(database: Database) -> None:
    with tcap_standin(TCAPStandIn(page_size=2)) as standin:
        standin.put("PDQ", pdq(1))
        standin.put("PDQ", "zz")  # not a PDQ
        standin.put("PDQ", pdq(3))
        standin.put("PDQ", pdq(4))
        del standin.records[("PDQ", pdq(3))]["hash_digest"]
        standin.faults = {"1704085204,104": ["not-json"] * MAX_PAGE_ATTEMPTS}
        standin.put("PDQ", pdq(5))
        configure(database, standin.url)
        results = [fetch(database, T0 + timedelta(hours=n)) for n in range(MAX_PAGE_ATTEMPTS)]
        assert all("not JSON" in (r.error or "") for r in results[:-1])
        assert results[-1].complete
        assert standin.requests[-1]["after"] == "1704085205,0"  # one second past the last good page
    assert set(active(database)) == {f"PDQ:{pdq(1)}", f"PDQ:{pdq(4)}", f"PDQ:{pdq(5)}"}
    with database.read() as session:
        source = get_source(session, "tcap")
        kinds = sorted(q["kind"] for q in quarantine_records(session, source))
        record = source_record(session, source)
    assert kinds == ["page", "record", "record"] and record["counts"]["quarantined"] == 3


def test_refused_credentials_and_a_page_without_checkpoint(database: Database) -> None:
    with tcap_standin(TCAPStandIn(page_size=1)) as standin:
        standin.put("PDQ", pdq(1))
        standin.put("PDQ", pdq(2))
        configure(database, standin.url)
        wrong = fetch(database, keys="tcap-user:nope")
        standin.faults = {"": ["no-checkpoint"]}
        cursorless = fetch(database, T0 + timedelta(hours=1))
    assert wrong.error == "TCAP refused the credentials (HTTP 401 to log in)"
    assert cursorless.error is not None and 'no "checkpoint"' in cursorless.error
    with database.read() as session:
        assert "nope" not in repr(source_record(session, get_source(session, "tcap")))


def test_pytx_tcap_client_pastes_next_after_the_question_mark(monkeypatch) -> None:
    """Why Stanch pages by checkpoint: pytx's ``fetch_hashes`` builds ``{base}{endpoint}?{next}``, so
    the first page is asked for at ``...all?None`` and a later one at ``...all?<a whole URL>``. This
    fails the day pytx changes it, so the paging can be reconsidered."""
    from threatexchange.exchanges.clients.techagainstterrorism.api import TATHashListAPI

    asked: list[str] = []
    page = {"count": 0, "next": "https://app.terrorismanalytics.org/api/hash-list/v2/all?limit=2&offset=2",
            "previous": None, "checkpoint": "1704085200,1", "results": []}
    monkeypatch.setattr(TATHashListAPI, "get_auth_token", lambda self, user, password: "jwt")
    monkeypatch.setattr(TATHashListAPI, "_get", lambda self, full_url=None, auth_token=None, **params:
                        asked.append(str(full_url)) or page)
    client = TATHashListAPI("user", "password")
    pages = client.fetch_hashes_iter("")
    next(pages)
    next(pages)
    assert asked[0].endswith("api/hash-list/v2/all?None")
    assert asked[1].endswith("api/hash-list/v2/all?https://app.terrorismanalytics.org/api/hash-list/v2/all?"
                             "limit=2&offset=2")
