"""Fuzzing the API from its own OpenAPI schema (schemathesis), bounded for CI: every operation, with
generated valid and invalid inputs, with and without a key. The rules: no 5xx ever, and every answer
conforms to what the schema says about it. A longer run: ``python scripts/fuzz.py api``."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from stanch.api.app import create_app
from stanch.store import create_key, open_database

EXAMPLES = int(os.environ.get("STANCH_FUZZ_EXAMPLES", "12"))
"""Examples per operation and key: ~12 x 2 keys x the operations is a few hundred requests in CI."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, str]]]:
    """A real server on 127.0.0.1 (lifespan and all) on a fresh SQLite database, with an all-scope key."""
    folder = Path(tempfile.mkdtemp())
    db = open_database(f"sqlite:///{folder}/fuzz.db")
    with db.write() as session:
        key = create_key(session, "fuzz", ["match", "bank", "desk", "admin"])[1]
    os.environ.setdefault("STANCH_DISPATCH", "0")
    port = _free_port()
    config = uvicorn.Config(create_app(db=db), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "the fuzzing server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    running.should_exit = True
    thread.join(timeout=10)
    db.dispose()


FUZZ_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
KEYS = {"with-key": None, "wrong-key": {"Authorization": "Bearer not-a-key"}}


@pytest.mark.parametrize("key", list(KEYS))
def test_no_5xx_and_answers_match_the_schema(server: tuple[str, dict[str, str]], key: str) -> None:
    base, good = server
    headers = KEYS[key] or good
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20  # every route of the schema, not a handful

    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers, timeout=30)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        run()
