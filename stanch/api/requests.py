"""Removal requests over HTTP: the public intake, the requester's status, and the reviewers' desk.

- ``POST /v1/requests`` (public): file a request → 201 receipt ``{"id", "token", "received_at",
  "deadline"}``; 422 listing every missing or malformed element (nothing stored); 429 over the rate
  limit (with ``Retry-After``).
- ``GET /v1/requests/{id}`` with the header ``X-Stanch-Token: T``: the requester's view. With a
  ``desk`` key instead: the reviewer's view (audited). Neither: 401. A wrong code: 404, the same
  answer as an unknown number, so guessing
  reveals nothing.
- ``POST /v1/requests/{id}/info`` and ``/withdraw`` (the code in the
  ``X-Stanch-Token`` header or as ``"token"`` in the body; ``?token=`` is refused with 400, since
  addresses end up in access logs).
- ``GET /v1/requests?status=open`` (desk): the queue, least time left first.
- ``POST /v1/requests/{id}/items`` (desk): the platform attaches items (``copy``: true for copies).
- ``POST /v1/requests/{id}/decision`` (desk): the whole case, ``{"decision":
  "remove"|"reject"|"need_info", "reason", "reason_code"}``, or item by item, ``{"items": [{"item_id",
  "decision": "remove"|"reject", "reason", "reason_code"}], "reason"}`` (a case is decided when every
  item is; ``reason_code``, optional, one of ``stanch.actions.REFUSAL_CODES``, is what the requester's
  email may say of a refusal); 422 naming each problem (an unknown item, one of another case, a
  duplicate, a bad decision, a refusal without reason, an unknown reason code, with the codes allowed);
  409 on a request or item already decided.

The client address counted by the rate limit is the connection's; behind a proxy run uvicorn with
``--proxy-headers`` and ``--forwarded-allow-ips`` so that it is the real one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stanch.actions import REFUSAL_CODES
from stanch.api.auth import Caller, require
from stanch.api.errors import unprocessable
from stanch.api.uploads import read_json
from stanch.desk.audit import record
from stanch.desk.cases import (
    WrongState,
    add_info,
    find_request,
    queue,
    queue_row,
    request_for_token,
    requester_view,
    reviewer_view,
    withdraw,
)
from stanch.desk.copy_review import decide_copy
from stanch.desk.decisions import decide_body
from stanch.desk.intake import file_request, validate
from stanch.desk.locate import (
    attach_item,
    items_from_answer,
)
from stanch.desk.minors import report_export
from stanch.desk.safeguards import Safeguards
from stanch.net import SafeFetcher
from stanch.runtime import Runtime, Stanch

router = APIRouter(prefix="/v1/requests", tags=["requests"])
log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)
T = TypeVar("T")


def json_schema(required: list[str], properties: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body that the handler reads itself (so that every problem
    is listed at once, in the desk's words, instead of FastAPI's first-error-per-field)."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema, "example": example}}}}


_TEXT, _HASHES = {"type": "string"}, {"type": "array", "items": {"type": "object"}}
_PERSON = {"type": "object", "required": ["name", "email"],
           "properties": {"name": _TEXT, "email": {"type": "string", "format": "email"}}}
REQUEST_BODY = json_schema(
    ["requester", "relationship", "signature", "good_faith", "statement", "locations"],
    {"requester": _PERSON, "relationship": {"enum": ["self", "authorised"]}, "signature": _TEXT,
     "good_faith": {"const": True}, "statement": _TEXT, "locations": {"type": "array", "items": _TEXT},
     "hashes": _HASHES, "explanation": _TEXT, "phone": _TEXT, "contact": _TEXT,
     "share_hashes": {"type": "boolean"}, "under_18": {"type": "boolean"}},
    {"requester": {"name": "Alex Example", "email": "alex@example.org"}, "relationship": "self",
     "signature": "Alex Example", "good_faith": True,
     "statement": "These pictures of me were published without my consent.",
     "locations": ["https://platform.example/p/1"], "hashes": [{"pdq": "f" * 64, "quality": 100}]},
)
INFO_BODY = json_schema([], {"token": _TEXT, "text": _TEXT, "locations": {"type": "array", "items": _TEXT},
                             "hashes": _HASHES}, {"token": "<secret code>", "text": "It is also post 2"})
ITEMS_BODY = json_schema(["items"], {"items": {"type": "array", "items": {"type": "object"}}},
                         {"items": [{"item_id": "post/1", "hashes": {"pdq": "f" * 64}},
                                    {"item_id": "post/9", "hashes": {"md5": "0" * 32}, "copy": True}]})
_ITEM_DECISION = {"type": "object", "required": ["item_id", "decision"],
                  "properties": {"item_id": _TEXT, "decision": {"enum": ["remove", "reject"]},
                                 "reason": _TEXT, "reason_code": {"enum": list(REFUSAL_CODES)}}}
DECISION_BODY = json_schema([], {"decision": {"enum": ["remove", "reject", "need_info"]}, "reason": _TEXT,
                                 "reason_code": {"enum": list(REFUSAL_CODES)},
                                 "items": {"type": "array", "items": _ITEM_DECISION}},
                            {"items": [{"item_id": "post/1", "decision": "remove"},
                                       {"item_id": "post/2", "decision": "reject",
                                        "reason_code": "not_this_content",
                                        "reason": "This picture does not show the requester."}]})
COPY_DECISION_BODY = json_schema(
    ["item_id", "decision"],
    {"item_id": _TEXT, "decision": {"enum": ["remove", "reject"]}, "reason": _TEXT},
    {"item_id": "posts/8812/photo.jpg", "decision": "reject", "reason": "a different picture"})


def actor_of(caller: Caller) -> str:
    """How the audit log and decisions name an API key."""
    return caller.actor


PUBLIC_JSON_BYTES = 2 * 2**20
"""Largest body of the public endpoints (500 full hash records fit); desk endpoints take the API's."""


async def json_body(request: Request, max_bytes: int = PUBLIC_JSON_BYTES) -> Any:
    """The parsed JSON body (413 over ``max_bytes``, 422 when not JSON)."""
    return await read_json(request, max_bytes)


async def optional_desk(
    app: Runtime, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Caller | None:
    """The desk caller when a key is sent (401/403 if it is not a valid desk key), else None."""
    if credentials is None:
        return None
    return await require("desk")(credentials, app)


TOKEN_HEADER = "X-Stanch-Token"
_TOKEN_IN_ADDRESS = (
    "the secret code was sent in the address (?token=), where server and proxy logs keep it: send it in "
    f"the {TOKEN_HEADER} header (or as \"token\" in a JSON body) instead"
)


def case_token(request: Request) -> str | None:
    """The secret code from the ``X-Stanch-Token`` header; 400 when it came as ``?token=``.

    Why not the query string: access logs (uvicorn's, a proxy's) record the address, and the code is
    enough to read and withdraw the request.
    """
    if "token" in request.query_params:
        raise HTTPException(400, _TOKEN_IN_ADDRESS)
    return request.headers.get(TOKEN_HEADER)


def require_token_or_desk(token: str | None, caller: Caller | None) -> None:
    """A request's or an appeal's status is shown for its secret code or to a desk key; 401 without."""
    if caller is None and token is None:
        raise HTTPException(401, f"give the secret code in the {TOKEN_HEADER} header, or a desk API key",
                            headers={"WWW-Authenticate": "Bearer"})


@router.post("", status_code=201, openapi_extra=REQUEST_BODY)
async def requests_file(app: Runtime, request: Request, background: BackgroundTasks) -> Any:
    """File a removal request (public; no key). Stored, and acknowledged by email, before answering."""
    valid = validate(await json_body(request))  # InvalidRequest: 422 listing every problem
    address = request.client.host if request.client else None

    def store() -> tuple[dict[str, str], int]:
        with app.db.write() as session:
            receipt, stored = file_request(session, valid, now=app.now(), address=address,
                                           safeguards=Safeguards.from_environment())
            return receipt.to_dict(), stored.id

    receipt, request_id = await run_in_threadpool(store)  # RateLimited: 429
    background.add_task(app.locate_soon, request_id)
    return {**receipt, "next": "Keep your case number and secret code: the code is shown only now and "
                               "cannot be recovered. A person will review your request by the deadline."}


@router.get("/{number}/minor-report")
def requests_minor_report(app: Runtime, number: str, caller: Caller = Depends(require("desk"))) -> Any:
    """For a case about a person under 18: what Stanch knows for the platform's own report to NCMEC (no
    media, nothing about the requester; audited as ``request.minor_export``). 404 for other cases."""
    with app.db.write() as session:
        try:
            return report_export(session, find_request(session, number), actor_of(caller), app.now())
        except ValueError as not_minor:
            raise HTTPException(404, str(not_minor)) from None


@router.get("")
def requests_queue(app: Runtime, request: Request, status: str = "open",
                   caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """The reviewers' queue: ``status`` = open (default), all, or one state; least time left first."""
    now = app.now()
    with app.db.write() as session:
        rows = [queue_row(r, now) for r in queue(session, now, status)]
        record(session, actor_of(caller), "request.queue_view", None, {"status": status, "rows": len(rows)})
    return {"requests": rows}


@router.get("/{number}")
def requests_get(app: Runtime, number: str, token: str | None = Depends(case_token),
                 caller: Caller | None = Depends(optional_desk)) -> Any:
    """A request's status: the requester's view with the ``X-Stanch-Token`` header, the reviewer's with a
    desk key."""
    now = app.now()
    require_token_or_desk(token, caller)
    with app.db.write() as session:
        if caller is not None:
            return reviewer_view(session, find_request(session, number), actor_of(caller), now)
        return requester_view(session, request_for_token(session, number, token), now)


async def _token_and_body(request: Request) -> tuple[str | None, Any]:
    length = request.headers.get("content-length")
    empty = length == "0" or (length is None and "transfer-encoding" not in request.headers)
    token = case_token(request)
    body = {} if empty else await json_body(request)
    if isinstance(body, dict) and "token" in body:
        token = body.pop("token")
    return (token if isinstance(token, str) else None), body


@router.post("/{number}/info", openapi_extra=INFO_BODY)
async def requests_add_info(app: Runtime, number: str, request: Request, background: BackgroundTasks) -> Any:
    """The requester adds ``{"text", "locations", "hashes"}``; a request waiting for information goes back
    to review."""
    token, body = await _token_and_body(request)

    def store() -> tuple[dict[str, Any], int]:
        now = app.now()
        with app.db.write() as session:
            found = _own_request(session, number, token)
            add_info(session, found, body, now)
            session.flush()
            return requester_view(session, found, now), found.id

    view, request_id = await run_in_threadpool(store)
    background.add_task(app.locate_soon, request_id)
    return view


@router.post("/{number}/withdraw")
async def requests_withdraw(app: Runtime, number: str, request: Request) -> dict[str, Any]:
    """The requester withdraws an open request."""
    token, _ = await _token_and_body(request)

    def store() -> dict[str, Any]:
        now = app.now()
        with app.db.write() as session:
            found = _own_request(session, number, token)
            withdraw(session, found, now)
            return requester_view(session, found, now)

    return await run_in_threadpool(store)


def _own_request(session: Any, number: str, token: str | None) -> Any:
    if token is None:
        raise HTTPException(
            401, f"give the secret code in the {TOKEN_HEADER} header or as \"token\" in the body"
        )
    return request_for_token(session, number, token)


@router.post("/{number}/items", status_code=201, openapi_extra=ITEMS_BODY)
async def requests_attach_items(app: Runtime, number: str, request: Request,
                                caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """The platform attaches items: ``{"items": [{"item_id", "hashes"|"media_url", "location",
    "copy": false}]}``. A copy must match the request's hashes; it is stored with how it matched."""
    body = await json_body(request, app.limits.max_json_bytes)
    fetcher = SafeFetcher(allow_private=allow_private())
    located = await run_in_threadpool(items_from_answer, body, fetcher)  # LocateError: 422
    flags = [bool(i.get("copy")) for i in body["items"]]
    places = [i.get("location") if isinstance(i.get("location"), str) else None for i in body["items"]]

    def store() -> list[dict[str, Any]]:
        now = app.now()
        with app.db.write() as session:
            found = find_request(session, number)
            rows = [attach_item(session, found, item, origin="copy" if copy else "located",
                                actor=actor_of(caller), now=now, location=place)
                    for item, copy, place in zip(located, flags, places, strict=True)]
            return [{"item_id": r.item_id, "origin": r.origin, "signal": r.signal, "distance": r.distance,
                     "view": r.view, "review": r.review} for r in rows]

    try:
        attached = await run_in_threadpool(store)
    except ValueError as error:  # an item that is not a copy of the request, or malformed
        raise unprocessable(error) from None
    app.follower.poll_after_commit()
    return {"items": attached}


def allow_private() -> bool:
    """Whether media URLs may point at private addresses (``STANCH_RESOLVER_ALLOW_PRIVATE``, for tests and
    closed networks)."""
    return os.environ.get("STANCH_RESOLVER_ALLOW_PRIVATE", "").lower() in ("1", "true", "yes")


@router.post("/{number}/decision", openapi_extra=DECISION_BODY)
async def requests_decide(app: Runtime, number: str, request: Request,
                          caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """Decide the whole case (``remove`` banks the hashes and queues removals for every item and copy;
    ``reject`` and ``need_info`` need a ``reason``) or item by item (``items``: ``remove`` or ``reject``
    with a reason each). 409 if the request (or an item) is already decided."""
    body = await decision_body(request)

    def store() -> dict[str, Any]:
        now = app.now()
        with app.db.write() as session:
            found = find_request(session, number)
            result = decide_body(session, found, body, actor=actor_of(caller), now=now)
            return {"id": found.public_id, "status": found.status, "decision": result.decision,
                    "entries": result.entries, "removed_items": result.removed_items,
                    "rejected_items": result.rejected_items, "undecided_items": result.undecided_items,
                    "deadline_kept": now <= found.deadline}

    return await run_decision(app, store)


@router.post("/{number}/copies/decision", openapi_extra=COPY_DECISION_BODY)
async def requests_decide_copy(app: Runtime, number: str, request: Request,
                               caller: Caller = Depends(require("desk"))) -> dict[str, Any]:
    """Decide one copy on the case's review list: ``{"item_id", "decision": "remove"|"reject",
    "reason"}`` (a reason is required to reject). ``remove`` banks it and queues its removal at once on
    a removed case (with the case's removal on an open one); a rejected copy never comes back. 409 if
    the copy is not waiting for review, 404 if the case has no such copy."""
    body = await decision_body(request)

    def store() -> dict[str, Any]:
        with app.db.write() as session:
            found = find_request(session, number)
            row = decide_copy(session, found, body.get("item_id"), body.get("decision"), body.get("reason"),
                              actor=actor_of(caller), now=app.now())
            return {"id": found.public_id, "item_id": row.item_id, "review": row.review,
                    "removal_sent": row.removal_sent_at is not None}

    return await run_decision(app, store)


async def decision_body(request: Request) -> dict[str, Any]:
    """The body of a reviewer's decision (on a request or an appeal): a JSON object, 422 otherwise."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HTTPException(422, "the body must be {\"decision\": ..., \"reason\": ...}")
    return body


async def run_decision(app: Stanch, store: Callable[[], T]) -> T:
    """Run a decision's write (``store``) off the event loop and make what it banked matchable before
    answering. The desk's refusals are answered by ``stanch.api.errors``; a ``ValueError`` of its own
    (an unknown decision, a missing reason) is a 422."""
    try:
        answer = await run_in_threadpool(store)
    except WrongState:
        raise
    except ValueError as error:
        raise unprocessable(error) from None
    app.follower.poll_after_commit()
    return answer
