"""Feedback to StopNCII: ``queue_source_feedback`` queues outbox messages for exchanged entries only,
once per verdict and hash, and the dispatcher delivers them to the stand-in's SubmitFeedback with
retries (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from stanch.actions import Dispatcher
from stanch.desk.exchange_feedback import ExchangeFeedbackSender
from stanch.exchange.live.feedback import queue_source_feedback
from stanch.exchange.live.fetcher import fetch_source
from stanch.exchange.live.sources import add_source
from stanch.store import Database, Entry, add_entry, create_bank, entry_from_hashes, get_bank
from stanch.store.outbox_models import OutboxMessage
from tests.exchange.stopncii_standin import CREDENTIALS, FEEDBACK_CREDENTIALS, pdq, stopncii_standin

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _setup(database: Database, url: str, *, feedback: bool = True, keys: str = FEEDBACK_CREDENTIALS) -> dict:
    env = {"KEYS": keys}
    with database.write() as session:
        create_bank(session, "ncii")
        add_source(session, "stopncii", type="stopncii", bank="ncii", credentials_env="KEYS", base_url=url,
                   feedback=feedback)
    assert fetch_source(database, "stopncii", clock=lambda: T0, environ=env).complete
    with database.write() as session:
        own = add_entry(session, get_bank(session, "ncii"), entry_from_hashes(pdq=pdq(99)))  # not exchanged
    with database.read() as session:
        ids = {str(e.external_id or "own"): e.id for e in session.scalars(select(Entry))}
    assert ids["own"] == own
    return ids


def _messages(database: Database) -> list[OutboxMessage]:
    with database.read() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "exchange")))


def test_feedback_is_queued_for_exchanged_entries_once_and_delivered(database: Database) -> None:
    with stopncii_standin() as standin:
        standin.put("ImagePDQ", pdq(1))
        standin.put("ImagePDQ", pdq(2))
        ids = _setup(database, standin.url)
        confirmed, rejected = ids[f"ImagePDQ:{pdq(1)}"], ids[f"ImagePDQ:{pdq(2)}"]
        with database.write() as session:
            assert queue_source_feedback(session, [confirmed, ids["own"]], "confirmed", T0) == 1
            assert queue_source_feedback(session, [rejected], "rejected", T0) == 1
            assert queue_source_feedback(session, [confirmed], "confirmed", T0) == 0  # already queued
            assert queue_source_feedback(session, [ids["own"]], "rejected", T0) == 0  # not from an exchange
        standin.feedback_faults.append("429:30")
        sender = ExchangeFeedbackSender(database.engine, environ={"KEYS": FEEDBACK_CREDENTIALS})
        clock = [T0]
        with Dispatcher(database.engine, senders={"exchange": sender}, clock=lambda: clock[0]) as dispatcher:
            first = dispatcher.run_once()
            assert (first.sent, first.retried) == (1, 1)
            clock[0] = T0 + timedelta(hours=1)
            assert dispatcher.run_once().sent == 1
    assert sorted((f["hashFeedbacks"][0]["hashValue"], f["hashFeedbacks"][0]["feedbackValue"])
                  for f in standin.feedback) == sorted([(pdq(1), "Blocked"), (pdq(2), "NotBlocked")])
    assert {m.status for m in _messages(database)} == {"sent"}
    with database.write() as session:  # a sent verdict is not sent again
        assert queue_source_feedback(session, [confirmed], "confirmed", T0) == 0


def test_no_feedback_unless_the_source_asks_for_it(database: Database) -> None:
    with stopncii_standin() as standin:
        standin.put("ImagePDQ", pdq(1))
        ids = _setup(database, standin.url, feedback=False)
    with database.write() as session:
        assert queue_source_feedback(session, list(ids.values()), "confirmed", T0) == 0
        with pytest.raises(ValueError, match="verdict"):
            queue_source_feedback(session, list(ids.values()), "maybe", T0)


def test_feedback_without_a_feedback_key_fails_for_good_with_the_reason(database: Database) -> None:
    with stopncii_standin() as standin:
        standin.put("ImagePDQ", pdq(1))
        ids = _setup(database, standin.url, keys=CREDENTIALS)
        with database.write() as session:
            queue_source_feedback(session, [ids[f"ImagePDQ:{pdq(1)}"]], "confirmed", T0)
        sender = ExchangeFeedbackSender(database.engine, environ={"KEYS": CREDENTIALS})
        with Dispatcher(database.engine, senders={"exchange": sender}, clock=lambda: T0) as dispatcher:
            assert dispatcher.run_once().failed == 1
    (message,) = _messages(database)
    assert message.status == "failed" and "feedback_function_key" in (message.last_error or "")
    assert standin.feedback == []


def test_a_removed_case_confirms_the_exchanged_hashes_it_carried(database: Database) -> None:
    from stanch.desk.cases import find_request
    from stanch.desk.decisions import decide
    from stanch.desk.intake import file_request, validate
    from tests.desk.factory import request_body

    with stopncii_standin() as standin:
        standin.put("ImagePDQ", pdq(1))
        standin.put("ImagePDQ", pdq(2))
        _setup(database, standin.url)
    cases = []
    for hashes in ([{"pdq": pdq(1)}], [{"pdq": pdq(2)}]):
        with database.write() as session:
            receipt, _ = file_request(session, validate(request_body(hashes=hashes)), now=T0)
            cases.append(receipt.id)
    with database.write() as session:
        decide(session, find_request(session, cases[0]), "remove", "NCII", actor="user:rev", now=T0)
        decide(session, find_request(session, cases[1]), "reject", "not NCII", actor="user:rev", now=T0)
    (message,) = _messages(database)
    assert message.recipient == "stopncii" and message.status == "pending"
    assert '"hashValue":"' + pdq(1) + '"' in message.payload
    assert '"feedbackValue":"Blocked"' in message.payload


def test_removed_cases_hashes_go_to_push_sources_only_with_the_requesters_consent(database: Database) -> None:
    from stanch.desk.cases import find_request
    from stanch.desk.decisions import decide
    from stanch.desk.intake import file_request, validate
    from tests.desk.factory import request_body

    with stopncii_standin() as standin:
        with database.write() as session:
            create_bank(session, "ncii")
            add_source(session, "partner", type="stopncii", bank="ncii", credentials_env="KEYS",
                       base_url=standin.url, push=True)
        cases = {}
        for n, consent in ((1, True), (2, None), (3, False)):
            body = request_body(hashes=[{"pdq": pdq(n)}], share_hashes=consent)  # None: not given
            with database.write() as session:
                receipt, request = file_request(session, validate(body), now=T0)
                assert request.share_consent is bool(consent)
                cases[n] = receipt.id
        with database.write() as session:
            for case in cases.values():
                decide(session, find_request(session, case), "remove", "NCII", actor="user:rev", now=T0)
        (message,) = _messages(database)
        assert message.type == "stopncii.submit"
        sender = ExchangeFeedbackSender(database.engine, environ={"KEYS": FEEDBACK_CREDENTIALS})
        with Dispatcher(database.engine, senders={"exchange": sender}, clock=lambda: T0) as dispatcher:
            assert dispatcher.run_once().sent == 1
    (body,) = standin.submitted
    assert body["count"] == 1 and body["hashRecords"][0]["signalType"] == "ImagePDQ"  # not pytx's str(enum)
    assert body["hashRecords"][0]["hashValue"] == pdq(1)
    assert cases[1] not in json.dumps(body)  # nothing about the case leaves Stanch but the hash


def test_share_hashes_must_be_a_boolean() -> None:
    from stanch.desk.intake import InvalidRequest, validate
    from tests.desk.factory import request_body

    with pytest.raises(InvalidRequest, match="share_hashes must be true or false"):
        validate(request_body(share_hashes="yes"))
