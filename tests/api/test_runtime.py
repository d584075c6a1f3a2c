"""The runtime object: built once, handed to every route by a dependency, with the clock it was given."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from stanch.api.app import create_app
from stanch.runtime import Settings, Stanch
from stanch.store import Database
from tests.desk.factory import request_body

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_building_a_runtime_starts_nothing(database: Database) -> None:
    threads = threading.active_count()
    runtime = Stanch(database, Settings(dispatch=False))
    assert threading.active_count() == threads
    assert not {"engine", "follower", "keys", "dispatcher"} & set(vars(runtime))  # built when first used
    runtime.stop()  # stopping what never started is fine


def test_routes_get_the_runtime_and_its_clock(database: Database) -> None:
    runtime = Stanch(database, Settings(dispatch=False, poll_interval=0.05), clock=lambda: NOON)
    with TestClient(create_app(runtime=runtime)) as client:
        receipt = client.post("/v1/requests", json=request_body())
        assert receipt.status_code == 201, receipt.text
        assert receipt.json()["received_at"].startswith("2026-03-02T12:00")
        assert client.app.state.stanch is runtime  # type: ignore[attr-defined]
        missing = client.get("/v1/requests/R-NONE", headers={"X-Stanch-Token": "x"})
        assert missing.status_code == 404 and "detail" in missing.json()  # the one exception map
    assert runtime.engine.clock() == NOON
