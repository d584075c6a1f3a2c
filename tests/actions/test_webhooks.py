"""Webhooks through the outbox to a real HTTP receiver: nothing before commit, signed, idempotent,
retried with backoff on 5xx and timeouts, failed for good on other 4xx. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from stanch.actions import (
    DeliveryError,
    Dispatcher,
    Message,
    RetryPolicy,
    WebhookSender,
    enqueue_webhook,
    list_messages,
    retry_message,
    verify_signature,
)
from stanch.store import Database
from stanch.store.outbox_models import OutboxMessage
from tests.actions.conftest import FakeClock, Receiver, Reply

SECRET = "test-secret-for-hmac"
POLICY = RetryPolicy(max_attempts=4, base=timedelta(seconds=10), cap=timedelta(hours=1), jitter=0.25)


def dispatcher(database: Database, url: str, clock: FakeClock, *, timeout: float = 5.0) -> Dispatcher:
    sender = WebhookSender(url, SECRET, timeout=timeout, clock=clock)
    return Dispatcher(database.engine, senders={"webhook": sender}, policy=POLICY, clock=clock,
                      random=lambda: 0.5)


def message(database: Database) -> OutboxMessage:
    with database.read() as session:
        return session.scalars(select(OutboxMessage)).one()


def test_nothing_is_sent_for_a_rolled_back_transaction(database: Database, receiver: Receiver,
                                                       clock: FakeClock) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
        raise RuntimeError("the decision failed after the action was queued")
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().handled == 0
    assert receiver.requests == []
    with database.read() as session:
        assert list_messages(session) == []


def test_nothing_is_sent_before_commit(database: Database, receiver: Receiver, clock: FakeClock) -> None:
    with dispatcher(database, receiver.url, clock) as sending, database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
        assert sending.run_once().handled == 0
    assert receiver.requests == []


def test_a_committed_webhook_is_delivered_once_signed(database: Database, receiver: Receiver,
                                                     clock: FakeClock) -> None:
    with database.write() as session:
        queued = enqueue_webhook(session, "remove_item", {"item_id": "p/1", "case_id": "42"}, clock=clock)
        message_id = queued.uuid
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().sent == 1
        clock.advance(3600)
        assert sending.run_once().handled == 0
    [request] = receiver.requests
    assert request.headers["idempotency-key"] == message_id
    assert request.headers["content-type"] == "application/json"
    timestamp = request.headers["x-stanch-timestamp"]
    assert int(timestamp) == int((clock.now - timedelta(seconds=3600)).timestamp())
    assert verify_signature(SECRET, timestamp, request.body, request.headers["x-stanch-signature"],
                            now=int(timestamp) + 1)
    assert not verify_signature("another secret", timestamp, request.body,
                                request.headers["x-stanch-signature"], now=int(timestamp))
    body = json.loads(request.body)
    assert body == {"id": message_id, "type": "remove_item", "created_at": "2026-11-22T09:00:00+00:00",
                    "data": {"item_id": "p/1", "case_id": "42"}}
    stored = message(database)
    assert (stored.status, stored.attempts, stored.last_error) == ("sent", 1, None)
    assert stored.done_at == clock.now - timedelta(seconds=3600)


def test_server_errors_are_retried_with_backoff_and_the_same_key(database: Database, receiver: Receiver,
                                                                clock: FakeClock) -> None:
    receiver.script = [Reply(500), Reply(503), Reply(200)]
    with database.write() as session:
        enqueue_webhook(session, "block_upload", {"upload_id": "u/9"}, clock=clock)
    start = clock.now
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().retried == 1
        # attempt 1 failed: wait base * 1 * (1 + 0.25 * 0.5) = 11.25 s
        assert message(database).next_attempt_at == start + timedelta(seconds=11.25)
        assert "500" in (message(database).last_error or "")
        clock.advance(11.2)
        assert sending.run_once().handled == 0
        clock.advance(0.05)
        assert sending.run_once().retried == 1
        # attempt 2 failed: wait base * 2 * 1.125 = 22.5 s
        assert message(database).next_attempt_at == clock.now + timedelta(seconds=22.5)
        clock.advance(22.4)
        assert sending.run_once().handled == 0
        clock.advance(0.1)
        assert sending.run_once().sent == 1
    assert len(receiver.requests) == 3
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    for request in receiver.requests:
        timestamp = request.headers["x-stanch-timestamp"]
        assert verify_signature(SECRET, timestamp, request.body, request.headers["x-stanch-signature"],
                                now=int(timestamp))
    stored = message(database)
    assert (stored.status, stored.attempts) == ("sent", 3)


def test_retry_after_is_honoured(database: Database, receiver: Receiver, clock: FakeClock) -> None:
    receiver.script = [Reply(429, headers={"Retry-After": "120"})]
    with database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().retried == 1
    assert message(database).next_attempt_at == clock.now + timedelta(seconds=120)


def test_a_client_error_fails_for_good_and_stays_visible(database: Database, receiver: Receiver,
                                                         clock: FakeClock) -> None:
    receiver.script = [Reply(400)]
    with database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().failed == 1
        clock.advance(86400)
        assert sending.run_once().handled == 0
    assert len(receiver.requests) == 1
    with database.read() as session:
        [failed] = list_messages(session, status="failed")
    assert "400" in (failed.last_error or "") and failed.attempts == 1


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (401, True), (404, True), (410, True), (422, True), (301, True),
    (408, False), (429, False), (500, False), (502, False), (503, False),
])
def test_how_answers_are_read(receiver: Receiver, clock: FakeClock, status: int, permanent: bool) -> None:
    receiver.script = [Reply(status, headers={"Location": "https://elsewhere.example/"})]
    sender = WebhookSender(receiver.url, SECRET, timeout=5, clock=clock)
    sample = Message("0b5f0d9e-0000-4000-8000-000000000001", "webhook", "remove_item", None, {}, clock(), 1)
    with pytest.raises(DeliveryError) as refused:
        sender.send(sample)
    sender.close()
    assert refused.value.permanent is permanent
    assert str(status) in refused.value.reason


def test_timeouts_are_retried(database: Database, receiver: Receiver, clock: FakeClock) -> None:
    """The platform does not answer the first delivery until the sender has given up (no race with a
    sleep), and the retry is sent by a sender with the usual timeout, however loaded the machine is."""
    answered = threading.Event()
    receiver.script = [Reply(200, hold=answered), Reply(200)]
    with database.write() as session:
        enqueue_webhook(session, "hold_for_review", {"item_id": "p/1"}, clock=clock)
    with dispatcher(database, receiver.url, clock, timeout=0.2) as sending:
        assert sending.run_once().retried == 1
    answered.set()
    assert "within 0.2 s" in (message(database).last_error or "")
    clock.advance(60)
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().sent == 1
    assert [r.headers["idempotency-key"] for r in receiver.requests].count(message(database).uuid) == 2


def test_an_unreachable_platform_is_retried_then_fails_after_max_attempts(
    database: Database, clock: FakeClock
) -> None:
    with database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
    with dispatcher(database, "http://127.0.0.1:9/closed", clock) as sending:
        for _ in range(POLICY.max_attempts - 1):
            assert sending.run_once().retried == 1
            clock.advance(3600 * 2)
        assert sending.run_once().failed == 1
    stored = message(database)
    assert stored.status == "failed" and stored.attempts == POLICY.max_attempts
    assert "gave up after 4 attempts" in (stored.last_error or "")


def test_a_failed_message_can_be_retried_by_an_admin(database: Database, receiver: Receiver,
                                                    clock: FakeClock) -> None:
    receiver.script = [Reply(400)]
    with database.write() as session:
        message_id = enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock).uuid
    with dispatcher(database, receiver.url, clock) as sending:
        assert sending.run_once().failed == 1
        with database.write() as session:
            retry_message(session, message_id, clock=clock)
        assert sending.run_once().sent == 1
    assert [r.headers["idempotency-key"] for r in receiver.requests] == [message_id, message_id]


def test_webhooks_wait_while_no_endpoint_is_configured(database: Database, clock: FakeClock) -> None:
    with database.write() as session:
        enqueue_webhook(session, "remove_item", {"item_id": "p/1"}, clock=clock)
    with Dispatcher(database.engine, senders={}, clock=clock) as sending:
        assert sending.run_once().handled == 0
    stored = message(database)
    assert (stored.status, stored.attempts) == ("pending", 0)


@pytest.mark.parametrize(("kind", "data"), [("delete_everything", {}), ("remove_item", {"x": float("nan")})])
def test_bad_webhooks_are_refused_at_enqueue(database: Database, kind: str, data: dict[str, object]) -> None:
    with database.write() as session, pytest.raises(ValueError):
        enqueue_webhook(session, kind, data)
