"""GET /v1/report: public and aggregate; exports by a desk key are audited, anonymous reads are not."""

from __future__ import annotations

import json

from sqlalchemy import select

from stanch.store.audit_models import AuditEvent
from tests.api.conftest import Api
from tests.desk.factory import request_body


def _exports(api: Api) -> list[AuditEvent]:
    with api.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")))


def test_report_is_public_aggregate_and_anonymous_reads_are_not_audited(api: Api) -> None:
    receipt = api.client.post("/v1/requests", json=request_body()).json()
    api.post(f"/v1/requests/{receipt['id']}/decision", "desk", json={"decision": "reject", "reason": "no"})
    for _ in range(3):
        response = api.client.get("/v1/report")
        assert response.status_code == 200
    (month,) = response.json()["months"]
    assert month["received"] == 1 and month["by_outcome"]["rejected"] == 1 and month["within_48h"] == 1.0
    text = response.text
    for private in (receipt["id"], "alex@example.org", "Alex Example", "platform.example"):
        assert private not in text
    assert _exports(api) == []


def test_an_export_by_a_desk_key_is_audited_with_the_key(api: Api) -> None:
    anonymous = api.client.get("/v1/report").json()
    response = api.client.get("/v1/report", headers=api.headers("desk"))
    assert response.status_code == 200 and response.json() == anonymous
    (export,) = _exports(api)
    assert export.actor.startswith("key:") and json.loads(export.details)["via"] == "api"


def test_a_key_that_is_not_a_desk_key_is_refused_and_nothing_is_recorded(api: Api) -> None:
    assert api.client.get("/v1/report", headers=api.headers("match")).status_code == 403
    assert api.client.get("/v1/report", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert _exports(api) == []
