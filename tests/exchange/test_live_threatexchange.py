"""A bank fed by a ThreatExchange privacy group (the Graph API stand-in on 127.0.0.1): cursor paging,
the incremental start time, deletions/expirations and non-malicious verdicts withdrawing, bad updates
and pages quarantined, errors, 429 and Graph rate-limit codes with backoff, and the access token kept
out of the checkpoint and the status. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from stanch.exchange.live.fetcher import MAX_PAGE_ATTEMPTS, Checkpoint, fetch_source
from stanch.exchange.live.sources import add_source, get_source, quarantine_records, source_record
from stanch.store import Database, Entry, create_bank
from tests.exchange.stopncii_standin import pdq
from tests.exchange.threatexchange_standin import GROUP, TOKEN, TEStandIn, threatexchange_standin

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENV = {"TX_TOKEN": TOKEN}
SECRET = TOKEN.partition("|")[2]


def configure(db: Database, url: str) -> None:
    with db.write() as session:
        create_bank(session, "te")
        add_source(session, "te", type="threatexchange", bank="te", credentials_env="TX_TOKEN",
                   base_url=url, privacy_group=GROUP, trust="review")


def fetch(db: Database, at: datetime = T0, env: dict[str, str] = ENV):
    return fetch_source(db, "te", clock=lambda: at, environ=env)


def active(db: Database) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(select(Entry.external_id, func.count()).where(Entry.withdrawn_at.is_(None))
                               .group_by(Entry.external_id))
        return {str(key): count for key, count in rows}


def checkpoint(db: Database) -> tuple[Checkpoint, str]:
    with db.read() as session:
        text = get_source(session, "te").checkpoint or ""
    return Checkpoint.load(text), text


def test_pages_then_only_changes_with_deletions_and_non_malicious_withdrawn(database: Database) -> None:
    with threatexchange_standin(TEStandIn(page_size=3)) as standin:
        for i in range(1, 6):
            standin.put(i, "HASH_PDQ", pdq(i))
        standin.put(6, "HASH_VIDEO_MD5", "a" * 32)
        standin.put(7, "HASH_MD5", "b" * 32, tags=("media_type_video",))
        standin.put(8, "HASH_MD5", "c" * 32)  # an MD5 not said to be a video: pytx maps it to nothing
        configure(database, standin.url)
        first = fetch(database)
        assert (first.complete, first.error, first.pages, first.added) == (True, None, 3, 7)
        assert first.skipped == {"ThreatExchange HASH_MD5 indicators (Stanch cannot match them)": 1}
        opening = standin.requests[0]
        assert "start_time" not in opening and opening["path"] == f"/v26.0/{GROUP}/threat_updates/"
        assert "descriptors{" in opening["fields"] and opening["limit"] == "100"
        assert [r.get("after") for r in standin.requests] == [None, "3", "6"]
        done, _ = checkpoint(database)
        assert (done.start, done.token) == (standin.clock, None)  # the newest last_updated seen

        standin.put(2, "HASH_PDQ", pdq(2), should_delete=True)  # deleted or expired: a tombstone
        standin.put(3, "HASH_PDQ", pdq(3), status="NON_MALICIOUS")
        standin.put(9, "HASH_PDQ", pdq(9))
        standin.requests.clear()
        second = fetch(database, T0 + timedelta(hours=1))
    assert standin.requests[0]["start_time"] == str(done.start)
    assert (second.complete, second.added, second.withdrawn) == (True, 1, 2)
    held = active(database)
    assert set(held) == {"1", "4", "5", "6", "7", "9"} and set(held.values()) == {1}
    with database.read() as session:
        kinds = dict(session.execute(select(Entry.external_id, Entry.kind)).all())
        reasons = dict(session.execute(select(Entry.external_id, Entry.withdrawn_reason)).all())
    assert kinds["6"] == kinds["7"] == "video" and kinds["1"] == "image"
    assert (reasons["2"], reasons["3"]) == ("threatexchange deleted", "threatexchange non_malicious")


def test_an_error_mid_fetch_resumes_from_the_cursor_without_the_token_stored(database: Database) -> None:
    with threatexchange_standin(TEStandIn(page_size=2)) as standin:
        for i in range(1, 6):
            standin.put(i, "HASH_PDQ", pdq(i))
        standin.faults = {"4": ["500"]}
        configure(database, standin.url)
        failed = fetch(database)
        assert (failed.error, failed.pages, failed.added) == ("ThreatExchange answered HTTP 500", 2, 4)
        stopped, text = checkpoint(database)
        assert stopped.token is not None and "after=4" in stopped.token
        assert SECRET not in text and "access_token" not in text
        resumed = fetch(database, T0 + timedelta(minutes=5))
        assert standin.requests[-1]["after"] == "4" and standin.requests[-1]["access_token"] == TOKEN
    assert (resumed.complete, resumed.added) == (True, 1)
    assert active(database) == {str(i): 1 for i in range(1, 6)}


def test_bad_updates_and_a_bad_data_list_are_quarantined(database: Database) -> None:
    with threatexchange_standin(TEStandIn(page_size=2)) as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        standin.put(2, "HASH_PDQ", "not a pdq")
        standin.put(3, "HASH_PDQ", pdq(3))
        del standin.updates["3"]["indicator"]
        standin.put(4, "HASH_PDQ", pdq(4))
        standin.put(5, "HASH_PDQ", pdq(5))
        standin.faults = {"4": ["bad-data"]}
        configure(database, standin.url)
        result = fetch(database)
    assert (result.complete, result.added, result.quarantined) == (True, 2, 3)
    assert set(active(database)) == {"1", "4"}
    with database.read() as session:
        source = get_source(session, "te")
        kept = {q["kind"]: q for q in quarantine_records(session, source)}
        counts = source_record(session, source)["counts"]
    assert counts == {"added": 2, "withdrawn": 0, "quarantined": 3}
    assert '"data" is not a list' in kept["page"]["reason"]


def test_an_unreadable_page_is_retried_then_skipped(database: Database) -> None:
    with threatexchange_standin(TEStandIn(page_size=2)) as standin:
        for i in range(1, 5):
            standin.put(i, "HASH_PDQ", pdq(i))
        standin.faults = {"2": ["not-json"] * MAX_PAGE_ATTEMPTS}
        configure(database, standin.url)
        results = [fetch(database, T0 + timedelta(hours=n)) for n in range(MAX_PAGE_ATTEMPTS)]
    assert all("not JSON" in (r.error or "") for r in results[:-1])
    assert results[-1].complete and results[-1].quarantined == 1
    # skipped: the next request starts one second after the last good page's newest update, so the
    # records of the bad page, updated later, come in that way
    assert standin.requests[-1]["start_time"] == str(standin.updates["2"]["last_updated"] + 1)
    assert set(active(database)) == {"1", "2", "3", "4"}


def test_a_next_link_to_another_host_is_refused(database: Database) -> None:
    with threatexchange_standin(TEStandIn(page_size=1)) as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        standin.put(2, "HASH_PDQ", pdq(2))
        standin.faults = {"": ["foreign-next"]}
        configure(database, standin.url)
        result = fetch(database)
    assert result.error is not None and "another host" in result.error
    assert all(r["path"].startswith("/v26.0/") for r in standin.requests)


@pytest.mark.parametrize(("fault", "wait"), [("429:120", 120.0), ("rate-code", 60.0)])
def test_rate_limits_keep_the_checkpoint_and_back_off(database: Database, fault: str, wait: float) -> None:
    with threatexchange_standin(TEStandIn(page_size=1)) as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        standin.put(2, "HASH_PDQ", pdq(2))
        standin.faults = {"1": [fault]}
        configure(database, standin.url)
        result = fetch(database)
    assert result.error is not None and "rate limited" in result.error and result.pages == 1
    assert result.next_fetch_at == T0 + timedelta(seconds=wait)
    assert checkpoint(database)[0].token is not None


def test_a_refused_token_never_shows(database: Database) -> None:
    with threatexchange_standin() as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        configure(database, standin.url)
        wrong = fetch(database, env={"TX_TOKEN": "1234567890|wrongwrongwrongwrongwrong"})
        malformed = fetch(database, T0 + timedelta(hours=1), env={"TX_TOKEN": "not-a-token"})
    assert wrong.error == "ThreatExchange refused the access token (HTTP 400): check it"
    assert malformed.error is not None and "app access token" in malformed.error
    with database.read() as session:
        shown = repr(source_record(session, get_source(session, "te")))
    assert SECRET not in shown and "wrongwrong" not in shown


def test_a_privacy_group_is_required_for_threatexchange_only(session) -> None:
    create_bank(session, "te")
    with pytest.raises(ValueError, match="privacy group"):
        add_source(session, "a", type="threatexchange", bank="te", credentials_env="T")
    with pytest.raises(ValueError, match="privacy group"):
        add_source(session, "b", type="stopncii", bank="te", credentials_env="T", privacy_group=5)
