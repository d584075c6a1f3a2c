"""Rate limits hold when submissions arrive at the same moment (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading

from stanch.desk.intake import file_request, validate
from stanch.desk.safeguards import RateLimited, Safeguards
from stanch.desk.tokens import keyed_hash
from stanch.store import Database, utcnow
from tests.desk.factory import request_body


def test_simultaneous_submissions_cannot_both_pass_the_limit(database: Database) -> None:
    limits = Safeguards(per_contact=1)
    with database.write() as session:
        keyed_hash(session, "warm-up")  # the desk's key exists first, so creating it serialises nothing
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def submit(n: int) -> None:
        start.wait()
        try:
            with database.write() as session:
                file_request(session, validate(request_body(locations=[f"loc {n}"])), now=utcnow(),
                             safeguards=limits)
            outcomes.append("stored")
        except RateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited", "limited", "limited", "stored"]
