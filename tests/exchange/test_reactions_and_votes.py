"""Feedback to ThreatExchange (reactions on the indicator's descriptors) and to NCMEC (upvotes and
downvotes on the entry's fingerprints): queued once per verdict through the outbox, delivered by the
dispatcher to the stand-ins with retries, refused requests failed for good with the reason, the access
token never in a message (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from stanch.actions import Dispatcher
from stanch.desk.exchange_feedback import ExchangeFeedbackSender
from stanch.exchange.live.feedback import queue_source_feedback
from stanch.exchange.live.fetcher import fetch_source
from stanch.exchange.live.ncmec import NCMECClient
from stanch.exchange.live.sources import add_source, get_source
from stanch.store import Database, Entry, create_bank
from stanch.store.outbox_models import OutboxMessage
from tests.exchange.ncmec_standin import CREDENTIALS as NCMEC_CREDENTIALS
from tests.exchange.ncmec_standin import NcmecStandIn, ncmec_standin
from tests.exchange.stopncii_standin import pdq
from tests.exchange.threatexchange_standin import GROUP, TOKEN, TEStandIn, threatexchange_standin

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NOW = 1_800_000_000


def _ids(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {str(e.external_id): e.id for e in session.scalars(select(Entry))}


def _messages(database: Database) -> list[OutboxMessage]:
    with database.read() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "exchange")
                                    .order_by(OutboxMessage.id)))


def _dispatch(database: Database, env: dict[str, str], clock: list[datetime]):
    sender = ExchangeFeedbackSender(database.engine, environ=env)
    return Dispatcher(database.engine, senders={"exchange": sender}, clock=lambda: clock[0])


def _te_source(database: Database, standin: TEStandIn, feedback: bool = True) -> dict[str, int]:
    with database.write() as session:
        create_bank(session, "te")
        add_source(session, "te", type="threatexchange", bank="te", credentials_env="TX",
                   base_url=standin.url, privacy_group=GROUP, feedback=feedback)
    assert fetch_source(database, "te", clock=lambda: T0, environ={"TX": TOKEN}).complete
    return _ids(database)


def test_threatexchange_reactions_on_others_descriptors_retried_and_sent_once(database: Database) -> None:
    with threatexchange_standin() as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        standin.put(2, "HASH_PDQ", pdq(2))
        standin.put(3, "HASH_PDQ", pdq(3), mine=True)  # our own descriptor: nothing to react to
        ids = _te_source(database, standin)
        with database.write() as session:
            assert queue_source_feedback(session, [ids["1"], ids["3"]], "confirmed", T0) == 2
            assert queue_source_feedback(session, [ids["2"]], "rejected", T0) == 1
            assert queue_source_feedback(session, [ids["1"]], "confirmed", T0) == 0
        standin.reaction_faults.append("429:30")
        clock = [T0]
        with _dispatch(database, {"TX": TOKEN}, clock) as dispatcher:
            first = dispatcher.run_once()
            assert (first.sent, first.retried) == (2, 1)
            clock[0] = T0 + timedelta(minutes=1)
            assert dispatcher.run_once().sent == 1
    assert sorted(standin.reactions) == [("10", "SAW_THIS_TOO"), ("20", "DISAGREE_WITH_TAGS")]
    messages = _messages(database)
    assert {(m.status, m.type) for m in messages} == {("sent", "threatexchange.reaction")}
    assert all(TOKEN.partition("|")[2] not in m.payload + (m.last_error or "") for m in messages)


def test_a_refused_reaction_fails_for_good_and_no_feedback_unless_asked(database: Database) -> None:
    with threatexchange_standin() as standin:
        standin.put(1, "HASH_PDQ", pdq(1))
        ids = _te_source(database, standin)
        with database.write() as session:
            queue_source_feedback(session, [ids["1"]], "rejected", T0)
        standin.reaction_faults.append("400")
        with _dispatch(database, {"TX": TOKEN}, [T0]) as dispatcher:
            assert dispatcher.run_once().failed == 1
    (message,) = _messages(database)
    assert message.status == "failed" and message.last_error == "refused: ThreatExchange answered HTTP 400"
    with database.write() as session:
        session.execute(OutboxMessage.__table__.delete())
        get_source(session, "te").feedback = False
    with database.write() as session:
        assert queue_source_feedback(session, [ids["1"]], "confirmed", T0) == 0


def _ncmec_source(database: Database, standin: NcmecStandIn) -> dict[str, int]:
    with database.write() as session:
        create_bank(session, "ncmec")
        add_source(session, "ncmec", type="ncmec", bank="ncmec", credentials_env="NC", base_url=standin.url,
                   feedback=True)
    result = fetch_source(database, "ncmec", clock=lambda: T0, environ={"NC": NCMEC_CREDENTIALS},
                          client_factory=lambda s, c: NCMECClient(c, s.base_url, now=lambda: NOW))
    assert result.complete
    return _ids(database)


def test_ncmec_upvotes_and_downvotes_on_each_fingerprint_held(database: Database) -> None:
    with ncmec_standin() as standin:
        standin.add(1, NOW - 100, pdq=pdq(1), md5="1" * 32)
        standin.add(2, NOW - 90, kind="video", md5="2" * 32)
        ids = _ncmec_source(database, standin)
        with database.write() as session:
            assert queue_source_feedback(session, [ids["42:1"]], "confirmed", T0) == 1
            assert queue_source_feedback(session, [ids["42:2"]], "rejected", T0) == 1
        standin.vote_faults.append("500")
        clock = [T0]
        with _dispatch(database, {"NC": NCMEC_CREDENTIALS}, clock) as dispatcher:
            first = dispatcher.run_once()
            assert (first.sent, first.retried) == (1, 1)
            clock[0] = T0 + timedelta(hours=1)
            assert dispatcher.run_once().sent == 1
    assert sorted(standin.votes) == [("42", "1", "MD5", "affirmative", None),
                                     ("42", "1", "PDQ", "affirmative", None),
                                     ("42", "2", "MD5", "negative", "guid-1")]
    payload = json.loads(_messages(database)[0].payload)
    assert payload == {"source": "ncmec", "esp": "42", "entry": "1", "fingerprints": ["PDQ", "MD5"],
                       "vote": "upvote"}


def test_ncmec_downvote_with_several_reasons_is_not_guessed(database: Database) -> None:
    with ncmec_standin() as standin:
        standin.reasons = {"g-a": "Not CSAM", "g-b": "Wrong classification"}
        standin.add(1, NOW - 100, md5="1" * 32)
        ids = _ncmec_source(database, standin)
        with database.write() as session:
            queue_source_feedback(session, [ids["42:1"]], "rejected", T0)
        with _dispatch(database, {"NC": NCMEC_CREDENTIALS}, [T0]) as dispatcher:
            assert dispatcher.run_once().failed == 1
    (message,) = _messages(database)
    assert message.status == "failed" and "2 downvote reasons for MD5" in (message.last_error or "")
    assert "Wrong classification" in (message.last_error or "") and standin.votes == []


def test_the_votes_are_python_threatexchanges_feedback_types() -> None:
    from threatexchange.exchanges.clients.ncmec.hash_api import FeedbackType

    from stanch.exchange.live.feedback import VOTES

    assert {"confirmed": FeedbackType.upvote.value, "rejected": FeedbackType.downvote.value} == VOTES
