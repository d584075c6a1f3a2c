"""Dispatchers side by side and dispatchers that die: no message sent twice by two live workers, none
lost by a dead one. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from stanch.actions import DeliveryError, Dispatcher, Message, RetryPolicy, enqueue_webhook
from stanch.store import Database
from stanch.store.outbox_models import OutboxMessage
from tests.actions.conftest import FakeClock


class Recording:
    """A sender that remembers what it was asked to send (thread-safe), or dies when told to."""

    def __init__(self, die: bool = False) -> None:
        self.sent: list[str] = []
        self.die = die
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        if self.die:
            raise SystemExit("the worker was killed mid-send")
        with self._lock:
            self.sent.append(message.uuid)

    def close(self) -> None:
        """Nothing to release."""


def queue(database: Database, count: int, clock: FakeClock) -> list[str]:
    with database.write() as session:
        return [enqueue_webhook(session, "remove_item", {"item_id": f"p/{n}"}, clock=clock).uuid
                for n in range(count)]


def states(database: Database) -> list[tuple[str, int]]:
    with database.read() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.status, m.attempts) for m in rows]


def test_two_dispatchers_at_once_never_send_a_message_twice(database: Database, clock: FakeClock) -> None:
    ids = queue(database, 60, clock)
    sender = Recording()
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with Dispatcher(database.engine, senders={"webhook": sender}, clock=clock, batch_size=3) as one:
                start.wait()
                one.run_once()
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert Counter(sender.sent) == Counter(ids)
    assert states(database) == [("sent", 1)] * len(ids)


def test_a_dead_workers_messages_are_retried_after_the_lease(database: Database, clock: FakeClock) -> None:
    [message_id] = queue(database, 1, clock)
    with Dispatcher(database.engine, senders={"webhook": Recording(die=True)}, clock=clock) as dying, \
            pytest.raises(SystemExit):
        dying.run_once()
    assert states(database) == [("pending", 1)]
    survivor = Recording()
    with Dispatcher(database.engine, senders={"webhook": survivor}, clock=clock) as alive:
        clock.advance(60)
        assert alive.run_once().handled == 0  # still leased to the dead worker
        clock.advance(5 * 60)
        assert alive.run_once().sent == 1
    assert survivor.sent == [message_id]
    assert states(database) == [("sent", 2)]


def test_a_message_that_keeps_killing_workers_ends_failed(database: Database, clock: FakeClock) -> None:
    queue(database, 1, clock)
    policy = RetryPolicy(max_attempts=2)
    for _ in range(2):
        with Dispatcher(database.engine, senders={"webhook": Recording(die=True)}, clock=clock,
                        policy=policy) as dying, pytest.raises(SystemExit):
            dying.run_once()
        clock.advance(6 * 60)
    survivor = Recording()
    with Dispatcher(database.engine, senders={"webhook": survivor}, clock=clock, policy=policy) as alive:
        assert alive.run_once().failed == 1
    assert survivor.sent == []
    with database.read() as session:
        failed = session.scalars(select(OutboxMessage)).one()
    assert failed.status == "failed" and "worker stopped" in (failed.last_error or "")


def test_a_worker_that_lost_its_lease_cannot_undo_the_next_ones_work(database: Database,
                                                                     clock: FakeClock) -> None:
    """The slow worker's send fails after its lease ran out and another worker delivered the message:
    its failure is not recorded over the delivery."""
    queue(database, 1, clock)
    fast = Recording()

    class Slow:
        def send(self, message: Message) -> None:
            clock.advance(10 * 60)  # the lease runs out while this worker is stuck
            with Dispatcher(database.engine, senders={"webhook": fast}, clock=clock) as other:
                assert other.run_once().sent == 1
            raise DeliveryError("finally gave up waiting")

        def close(self) -> None:
            """Nothing to release."""

    with Dispatcher(database.engine, senders={"webhook": Slow()}, clock=clock) as slow:
        slow.run_once()
    assert len(fast.sent) == 1
    assert states(database) == [("sent", 2)]


def test_due_messages_go_oldest_first_in_batches(database: Database, clock: FakeClock) -> None:
    ids = queue(database, 7, clock)
    sender = Recording()
    with Dispatcher(database.engine, senders={"webhook": sender}, clock=clock, batch_size=3) as one:
        assert one.run_once().sent == 7
    assert sender.sent == ids


def test_a_future_message_waits(database: Database, clock: FakeClock) -> None:
    queue(database, 1, clock)
    sender = Recording()
    early = FakeClock()
    early.now = clock.now - timedelta(seconds=1)
    with Dispatcher(database.engine, senders={"webhook": sender}, clock=early) as one:
        assert one.run_once().handled == 0
    assert sender.sent == []


def test_run_forever_sends_new_messages_until_stopped(database: Database) -> None:
    sender = Recording()
    stop = threading.Event()
    with Dispatcher(database.engine, senders={"webhook": sender}) as dispatcher:
        loop = threading.Thread(target=dispatcher.run_forever, args=(stop,), kwargs={"poll_seconds": 0.05})
        loop.start()
        with database.write() as session:
            message_id = enqueue_webhook(session, "remove_item", {"item_id": "p/1"}).uuid
        for _ in range(200):
            if sender.sent:
                break
            stop.wait(0.05)
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    assert sender.sent == [message_id]


def test_a_stopped_dispatcher_claims_nothing_more(database: Database, clock: FakeClock) -> None:
    queue(database, 2, clock)
    stop = threading.Event()
    stop.set()
    with Dispatcher(database.engine, senders={"webhook": Recording()}, clock=clock) as dispatcher:
        assert dispatcher.run_once(stop).handled == 0
    assert states(database) == [("pending", 0)] * 2
