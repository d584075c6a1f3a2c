"""``GET /v1/report`` (public): the transparency report's monthly figures as JSON, aggregate only.

An export by an identified caller (a ``desk`` or ``admin`` key) is recorded in the audit log
(``report.export``, actor ``key:<id>``), as ``stanch report`` records its runs. Anonymous reads are
not: the figures are public and name no one, and recording them would let anyone grow the audit log
with one request each.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from stanch.api.auth import Caller
from stanch.api.requests import actor_of, optional_desk
from stanch.desk.audit import record
from stanch.desk.report import monthly, report_json
from stanch.runtime import Runtime

router = APIRouter(prefix="/v1/report", tags=["report"])


@router.get("")
def report_get(app: Runtime, caller: Caller | None = Depends(optional_desk)) -> dict[str, Any]:
    """Per month: requests by outcome, time to decision (median, 95th percentile), share decided within
    48 hours, copies removed, appeals and reversals. No key is needed; a key sent must be a valid
    ``desk`` key, and its export is audited."""
    if caller is None:
        with app.db.read() as session:
            return report_json(monthly(session))
    with app.db.write() as session:
        figures = monthly(session)
        record(session, actor_of(caller), "report.export", None, {"via": "api", "months": len(figures)})
    return report_json(figures)
