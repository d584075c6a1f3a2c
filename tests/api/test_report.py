"""GET /v1/report: public, aggregate only, and every export audited."""

from __future__ import annotations

from sqlalchemy import select

from stanch.store.audit_models import AuditEvent
from tests.api.conftest import Api
from tests.desk.factory import request_body


def test_report_is_public_aggregate_and_audited(api: Api) -> None:
    receipt = api.client.post("/v1/requests", json=request_body()).json()
    api.post(f"/v1/requests/{receipt['id']}/decision", "desk", json={"decision": "reject", "reason": "no"})
    response = api.client.get("/v1/report")
    assert response.status_code == 200
    (month,) = response.json()["months"]
    assert month["received"] == 1 and month["by_outcome"]["rejected"] == 1 and month["within_48h"] == 1.0
    text = response.text
    for private in (receipt["id"], "alex@example.org", "Alex Example", "platform.example"):
        assert private not in text
    with api.db.read() as session:
        exports = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert len(exports) == 1
