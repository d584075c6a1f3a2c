"""D10: a requester's name, email, statement and secret code must appear in no log line, at any level,
even when an insert fails (SQLAlchemy used to log a failed statement's parameters)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from stanch.desk.users import create_user
from stanch.store.user_models import User
from tests.api.conftest import Api
from tests.desk.factory import request_body

NAME, EMAIL = "Quilla Verbatim", "quilla.verbatim@example.org"
STATEMENT = "Unmistakable statement text 7d1f: published without my consent."


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records, every level
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "uvicorn", "uvicorn.access", "httpx", "stanch"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_a_full_request_flow_logs_no_personal_data_or_code(
    api: Api, everything_logged: pytest.LogCaptureFixture
) -> None:
    body = request_body(requester={"name": NAME, "email": EMAIL}, statement=STATEMENT, signature=NAME)
    receipt = api.client.post("/v1/requests", json=body).json()
    own = {"X-Stanch-Token": receipt["token"]}
    path = f"/v1/requests/{receipt['id']}"
    assert api.client.get(path, headers=own).status_code == 200
    assert api.client.post(f"{path}/info", headers=own, json={"text": STATEMENT + " more"}).status_code == 200
    assert api.client.get(path, headers=api.headers("desk")).json()["requester"]["email"] == EMAIL
    rejected = api.post(f"{path}/decision", "desk", json={"decision": "reject", "reason": "Not ours."})
    assert rejected.status_code == 200
    assert api.client.post(f"{path}/withdraw", headers=own).status_code == 409  # decided: refused, logged?
    # A failed insert that carries personal data, as a NUL on PostgreSQL used to trigger:
    with pytest.raises(IntegrityError) as failed, api.db.write() as session:
        create_user(session, EMAIL, "reviewer", "long enough password")
        session.add(User(email=EMAIL, role="reviewer", password_hash=NAME))
        session.flush()
    assert EMAIL not in str(failed.value) and NAME not in str(failed.value)
    logged = "\n".join(record.getMessage() + repr(record.args) for record in everything_logged.records)
    assert logged, "nothing was captured: the check would prove nothing"
    for secret in (NAME, EMAIL, STATEMENT, receipt["token"]):
        assert secret not in logged and secret not in everything_logged.text
