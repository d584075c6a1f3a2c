"""``GET /v1/report`` (public): the transparency report's monthly figures as JSON, aggregate only.

Each export is recorded in the audit log (``report.export``), as ``stanch report`` does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stanch.api.services import services
from stanch.desk.audit import SYSTEM, record
from stanch.desk.report import monthly, report_json

router = APIRouter(prefix="/v1/report", tags=["report"])


@router.get("")
def report_get(request: Request) -> dict[str, Any]:
    """Per month: requests by outcome, time to decision (median, 95th percentile), share decided within
    48 hours, copies removed, appeals and reversals."""
    with services(request).db.write() as session:
        figures = monthly(session)
        record(session, SYSTEM, "report.export", None, {"via": "api", "months": len(figures)})
    return report_json(figures)
