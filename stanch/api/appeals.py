"""Appeals over HTTP.

- ``POST /v1/appeals`` (public): ``{"item_id" or "case_id", "appellant": {"name", "email"},
  "statement"}`` → 201 receipt like a request's (``APL-…`` number, secret code shown once); 422 listing
  problems; 404 when no standing removal matches; 429 over the rate limit.
- ``GET /v1/appeals/{id}`` with the header ``X-Stanch-Token: T`` (the appellant) or with a ``desk``
  key (audited).
- ``GET /v1/appeals`` (desk): appeals waiting for a decision.
- ``POST /v1/appeals/{id}/decision`` (desk): ``{"decision": "reinstate"|"uphold", "reason"}``; 403 when
  the key that decided the removal tries to decide its appeal; 409 when already decided.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from stanch.api.auth import Caller, require
from stanch.api.requests import (
    actor_of,
    case_token,
    decision_body,
    json_body,
    json_schema,
    optional_desk,
    require_token_or_desk,
    run_decision,
)
from stanch.desk.appeals import (
    appellant_status,
    appellant_view,
    decide_appeal,
    find_appeal,
    open_appeals,
    reviewer_appeal_view,
    submit_appeal,
)
from stanch.desk.safeguards import Safeguards
from stanch.runtime import Runtime

router = APIRouter(prefix="/v1/appeals", tags=["appeals"])
_TEXT = {"type": "string"}
APPEAL_BODY = json_schema(
    ["appellant", "statement"],
    {"item_id": _TEXT, "case_id": _TEXT, "statement": _TEXT,
     "appellant": {"type": "object", "required": ["name", "email"],
                   "properties": {"name": _TEXT, "email": {"type": "string", "format": "email"}}}},
    {"item_id": "post/1", "appellant": {"name": "Sam Uploader", "email": "sam@example.org"},
     "statement": "This is my own work, posted with the consent of everyone shown."},
)
DECISION_BODY = json_schema(["decision", "reason"], {"decision": {"enum": ["reinstate", "uphold"]},
                                                     "reason": _TEXT},
                            {"decision": "uphold", "reason": "..."})


@router.post("", status_code=201, openapi_extra=APPEAL_BODY)
async def appeals_file(app: Runtime, request: Request) -> Any:
    """Appeal a removal (public; no key)."""
    body = await json_body(request)
    address = request.client.host if request.client else None

    def store() -> dict[str, str]:
        return submit_appeal(app.db, body, now=app.now(), address=address,
                             safeguards=Safeguards.from_environment()).to_dict()

    return await run_in_threadpool(store)  # InvalidRequest 422, UnknownRequest 404, RateLimited 429


@router.get("")
def appeals_queue(app: Runtime, caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """Appeals waiting for a decision, oldest first (no contact details)."""
    with app.db.read() as session:
        return {"appeals": [appellant_view(a) for a in open_appeals(session)]}


@router.get("/{number}")
def appeals_get(app: Runtime, number: str, token: str | None = Depends(case_token),
                caller: Caller | None = Depends(optional_desk)) -> dict[str, Any]:
    """An appeal's status: the appellant's view with the ``X-Stanch-Token`` header, the reviewer's with a
    desk key."""
    require_token_or_desk(token, caller)
    with app.db.write() as session:
        appeal = find_appeal(session, number, token, reviewer=caller is not None)
        if caller is not None:
            return reviewer_appeal_view(session, appeal, actor_of(caller), app.now())
        return appellant_status(session, appeal)


@router.post("/{number}/decision", openapi_extra=DECISION_BODY)
async def appeals_decide(app: Runtime, number: str, request: Request,
                         caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """Reinstate or uphold; reinstating withdraws the bank entries that came only from that request."""
    body = await decision_body(request)

    def store() -> dict[str, Any]:
        with app.db.write() as session:
            appeal = find_appeal(session, number, reviewer=True)
            withdrawn = decide_appeal(session, appeal, body.get("decision"), body.get("reason"),
                                      actor=actor_of(caller), now=app.now())
            return {**appellant_view(appeal), "entries_withdrawn": withdrawn}

    return await run_decision(app, store)
