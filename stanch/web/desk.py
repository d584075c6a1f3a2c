"""The reviewers' desk: sign-in, the queue, case pages with blurred previews, decisions, appeals, accounts.

Every page needs a signed-in reviewer (``stanch.desk.users``); every POST carries the session's CSRF
token. Opening a case, unblurring a preview and deciding are recorded in the audit log by the desk
library or here, in the same transaction as what they describe.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.desk.appeals import (
    SameReviewer,
    UnknownAppeal,
    decide_appeal,
    find_appeal,
    open_appeals,
    reviewer_appeal_view,
)
from stanch.desk.audit import record
from stanch.desk.cases import UnknownRequest, WrongState, find_request, queue, queue_row, reviewer_view
from stanch.desk.clock import deadline_kept
from stanch.desk.decisions import decide
from stanch.desk.spool import Spool, open_spool
from stanch.desk.users import (
    MIN_PASSWORD_LENGTH,
    Reviewer,
    SignInRefused,
    UserError,
    change_own_password,
    confirm_totp,
    create_user,
    disable_totp,
    end_session,
    new_password,
    new_totp_secret,
    session_reviewer,
    sign_in,
    totp_uri,
)
from stanch.store.desk_models import RequestItem, TakedownRequest
from stanch.store.models import utcnow
from stanch.store.user_models import ROLES, User
from stanch.web.previews import NoPreview, check_previewable, media_of, preview_jpeg, spool_ids
from stanch.web.public import database
from stanch.web.qr import qr_svg
from stanch.web.security import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
    csrf_ok,
    form_token,
    form_token_ok,
    set_form_cookie,
    set_session_cookie,
)
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)

SIGN_IN_MESSAGES = {
    "credentials": "The email address or password is not right.",
    "totp": "The code from your authenticator app is not right (or has expired). Try the newest code.",
    "rate_limited": "Too many failed attempts. Wait 15 minutes and try again, or ask an admin.",
}


def current_reviewer(request: Request) -> Reviewer | None:
    """The signed-in reviewer, or None."""
    with database(request).write() as session:
        return session_reviewer(session, request.cookies.get(SESSION_COOKIE))


def _to_sign_in() -> Response:
    return RedirectResponse("/desk/sign-in", status_code=303)


def _forbidden(request: Request, reviewer: Reviewer, message: str) -> Response:
    return render(request, "desk/message.html", {"title": "Not allowed", "message": message,
                                                 "reviewer": reviewer}, 403)


def _bad_csrf(request: Request, reviewer: Reviewer) -> Response:
    return _forbidden(request, reviewer, "This form was not sent from your open desk page (its security "
                      "token is missing or old). Nothing was changed. Go back, reload the page and try "
                      "again.")


def _form_sender(request: Request, csrf: str) -> Reviewer | Response:
    """The signed-in reviewer who sent this form from their open desk page, or the answer that refuses
    the form: to sign-in when signed out, 403 when its CSRF token is missing or old."""
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    if not csrf_ok(reviewer.csrf_token, csrf):
        return _bad_csrf(request, reviewer)
    return reviewer


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    now = utcnow()
    with database(request).read() as session:
        rows = [queue_row(r, now) for r in queue(session, now)]
        mine = list(session.scalars(
            select(TakedownRequest).where(TakedownRequest.decided_by == reviewer.actor)
            .order_by(TakedownRequest.decided_at.desc()).limit(50)
        ))  # fmt: skip
        decided = [{"id": r.public_id, "status": r.status, "decided_at": r.decided_at,
                    "kept": deadline_kept(r)} for r in mine]
        appeals = len(open_appeals(session))
    return render(request, "desk/queue.html", {"title": "Queue", "reviewer": reviewer, "rows": rows,
                                               "decided": decided, "appeals": appeals})


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    token = form_token(request)
    response = render(request, "desk/sign_in.html", {"title": "Sign in", "form_token": token, "error": None,
                                                     "email": ""})
    set_form_cookie(response, request, token)
    return response


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    form_token_value: str = Form("", alias="form_token"),
    email: str = Form(""),
    password: str = Form(""),
    totp: str = Form(""),
) -> Response:
    token = form_token(request)
    refused: str | None = None
    cookie = ""
    if not form_token_ok(request, form_token_value):
        refused = "stale"
    else:
        with database(request).write() as session:  # committed even when refused: failures must count
            try:
                _, cookie = sign_in(session, email, password, totp or None, client_address(request))
            except SignInRefused as error:
                refused = error.reason
    if refused is not None:
        message = SIGN_IN_MESSAGES.get(refused, "The sign-in form was old. Please try again.")
        status = 429 if refused == "rate_limited" else 403 if refused == "stale" else 401
        response = render(request, "desk/sign_in.html", {"title": "Sign in", "form_token": token,
                                                         "error": message, "email": email}, status)
        set_form_cookie(response, request, token)
        return response
    signed_in = RedirectResponse("/desk", status_code=303)
    set_session_cookie(signed_in, request, cookie)
    return signed_in


@router.post("/sign-out")
def sign_out(request: Request, csrf: str = Form("")) -> Response:
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    with database(request).write() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE))
    response = _to_sign_in()
    clear_session_cookie(response, request)
    return response


def _case_page(request: Request, reviewer: Reviewer, case: str, *, clear_item: str | None = None,
               notice: str | None = None, error: str | None = None, status_code: int = 200) -> Response:
    """The case page (audited as a view); with ``clear_item`` that item's preview is unblurred (audited)."""
    now = utcnow()
    clear: dict[str, str] = {}
    no_preview: dict[str, str] = {}
    try:
        with database(request).write() as session:
            found = find_request(session, case)
            view = reviewer_view(session, found, reviewer.actor, now)
            spooled = spool_ids(session, found.id)
            spool = open_spool(session, create=False) if spooled else None
            if clear_item is not None:
                item = _item(session, found, clear_item)
                record(session, reviewer.actor, "item.unblur", ("request", found.public_id),
                       {"item_id": item.item_id})
    except UnknownRequest:
        return render(request, "desk/message.html", {"title": "No such case", "reviewer": reviewer,
                                                     "message": f"There is no case {case}."}, 404)
    for item in view["items"] + view["copies"]:
        item_id, spool_id = item["item_id"], spooled.get(item["item_id"])
        try:
            check_previewable(item_id, spool_id, spool)
            if item_id == clear_item:
                jpeg = preview_jpeg(media_of(item_id, spool_id, spool), clear=True)
                clear[item["item_id"]] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        except NoPreview as missing:
            no_preview[item["item_id"]] = str(missing)
    return render(request, "desk/case.html", {
        "title": f"Case {view['id']}", "reviewer": reviewer, "view": view, "clear": clear,
        "no_preview": no_preview, "notice": notice, "error": error,
        "hashes_json": json.dumps(view["hashes"], indent=1),
    }, status_code)


def _item(session: Session, request: TakedownRequest, item_id: str) -> RequestItem:
    item = session.scalar(select(RequestItem).where(RequestItem.request_id == request.id,
                                                    RequestItem.item_id == item_id))
    if item is None:
        raise UnknownRequest(f"case {request.public_id} has no item {item_id!r}")
    return item


@router.get("/cases/{case}", response_class=HTMLResponse)
def case_page(request: Request, case: str) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    return _case_page(request, reviewer, case)


@router.get("/cases/{case}/preview")
def blurred_preview(request: Request, case: str, item: str) -> Response:
    """The blurred, greyscale preview of one item of a case (the only form sent without an unblur)."""
    reviewer = current_reviewer(request)
    if reviewer is None:
        return Response(status_code=401)
    spool: Spool | None = None
    try:
        with database(request).read() as session:
            spool_id = _item(session, find_request(session, case), item).spool_id
            spool = open_spool(session, create=False) if spool_id else None
        jpeg = preview_jpeg(media_of(item, spool_id, spool))
    except (UnknownRequest, NoPreview):
        return Response(status_code=404)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/cases/{case}/unblur", response_class=HTMLResponse)
def unblur(request: Request, case: str, item: str = Form(""), csrf: str = Form("")) -> Response:
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    return _case_page(request, reviewer, case, clear_item=item)


@router.post("/cases/{case}/decision", response_class=HTMLResponse)
def decision(request: Request, case: str, decision: str = Form(""), reason: str = Form(""),
             csrf: str = Form("")) -> Response:
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    try:
        with database(request).write() as session:
            decide(session, find_request(session, case), decision, reason or None, actor=reviewer.actor,
                   now=utcnow())
    except UnknownRequest:
        return render(request, "desk/message.html", {"title": "No such case", "reviewer": reviewer,
                                                     "message": f"There is no case {case}."}, 404)
    except (WrongState, ValueError) as problem:
        return _case_page(request, reviewer, case, error=str(problem), status_code=422)
    request.app.state.stanch.follower.poll_after_commit()
    words = {"remove": "Removed. The removal went out for every item and copy.",
             "reject": "Rejected. The requester will be told the reason.",
             "need_info": "Asked the requester for more information."}
    return _case_page(request, reviewer, case, notice=words.get(decision, "Decided."))


@router.get("/appeals", response_class=HTMLResponse)
def appeals_page(request: Request) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    now = utcnow()
    with database(request).read() as session:
        rows = []
        for appeal in open_appeals(session):
            removal = session.get(TakedownRequest, appeal.request_id)
            rows.append({"id": appeal.public_id, "received_at": appeal.received_at,
                         "deadline": appeal.deadline,
                         "seconds_left": int((appeal.deadline - now).total_seconds()),
                         "request": removal.public_id if removal else "",
                         "mine": bool(removal and removal.decided_by == reviewer.actor)})
    return render(request, "desk/appeals.html", {"title": "Appeals", "reviewer": reviewer, "rows": rows})


def _appeal_page(request: Request, reviewer: Reviewer, number: str, *, notice: str | None = None,
                 error: str | None = None, status_code: int = 200) -> Response:
    try:
        with database(request).write() as session:
            view = reviewer_appeal_view(session, find_appeal(session, number, reviewer=True), reviewer.actor,
                                        utcnow())
    except UnknownAppeal:
        return render(request, "desk/message.html", {"title": "No such appeal", "reviewer": reviewer,
                                                     "message": f"There is no appeal {number}."}, 404)
    return render(request, "desk/appeal.html", {"title": f"Appeal {view['id']}", "reviewer": reviewer,
                                                "view": view, "notice": notice, "error": error}, status_code)


@router.get("/appeals/{number}", response_class=HTMLResponse)
def appeal_page(request: Request, number: str) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    return _appeal_page(request, reviewer, number)


@router.post("/appeals/{number}/decision", response_class=HTMLResponse)
def appeal_decision(request: Request, number: str, decision: str = Form(""), reason: str = Form(""),
                    csrf: str = Form("")) -> Response:
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    try:
        with database(request).write() as session:
            appeal = find_appeal(session, number, reviewer=True)
            decide_appeal(session, appeal, decision, reason, actor=reviewer.actor, now=utcnow())
    except UnknownAppeal:
        return _appeal_page(request, reviewer, number)
    except (SameReviewer, WrongState, ValueError) as problem:
        return _appeal_page(request, reviewer, number, error=str(problem), status_code=422)
    request.app.state.stanch.follower.poll_after_commit()
    return _appeal_page(request, reviewer, number, notice="Decided. The person who appealed will be told.")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    if not reviewer.is_admin:
        return _forbidden(request, reviewer, "Only admins manage accounts.")
    return _users(request, reviewer)


def _users(request: Request, reviewer: Reviewer, context: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    with database(request).read() as session:
        users = list(session.scalars(select(User).order_by(User.email)))
    return render(request, "desk/users.html", {"title": "Accounts", "reviewer": reviewer, "users": users,
                                               "roles": ROLES, **(context or {})}, status_code)


@router.post("/users", response_class=HTMLResponse)
def users_create(request: Request, email: str = Form(""), role: str = Form("reviewer"),
                 csrf: str = Form("")) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    if not reviewer.is_admin:
        return _forbidden(request, reviewer, "Only admins manage accounts.")
    if not csrf_ok(reviewer.csrf_token, csrf):
        return _bad_csrf(request, reviewer)
    password = new_password()
    try:
        with database(request).write() as session:
            create_user(session, email, role, password, actor=reviewer.actor)
    except UserError as problem:
        return _users(request, reviewer, {"error": str(problem)}, 422)
    return _users(request, reviewer, {"created": {"email": email.strip().lower(), "password": password}})


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    return _account(request, reviewer)


def _account(request: Request, reviewer: Reviewer, context: dict[str, Any] | None = None,
             status_code: int = 200) -> Response:
    with database(request).read() as session:
        user = session.get(User, reviewer.id)
        totp_on = bool(user and user.totp_secret)
    return render(request, "desk/account.html", {"title": "Your account", "reviewer": reviewer,
                                                 "totp_on": totp_on, **(context or {})}, status_code)


def _totp_setup(reviewer: Reviewer, secret: str) -> dict[str, Any]:
    """What the account page shows to add ``secret`` to an app: the secret, its link and the link's QR."""
    uri = totp_uri(reviewer.email, secret)
    return {"secret": secret, "uri": uri, "qr": qr_svg(uri, "QR code to add Stanch to an authenticator app")}


@router.post("/account/totp", response_class=HTMLResponse)
def account_totp(request: Request, action: str = Form(""), secret: str = Form(""), code: str = Form(""),
                 csrf: str = Form("")) -> Response:
    """Two-step sign-in for oneself: ``start`` shows a new secret, ``confirm`` turns it on once a code
    from the app matches, ``off`` turns it off."""
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    if action == "start":
        return _account(request, reviewer, _totp_setup(reviewer, new_totp_secret()))
    try:
        with database(request).write() as session:
            user = session.get(User, reviewer.id)
            assert user is not None
            if action == "confirm":
                confirm_totp(session, user, secret, code, actor=reviewer.actor)
            elif action == "off":
                disable_totp(session, user, actor=reviewer.actor)
    except UserError as problem:
        return _account(request, reviewer, {**_totp_setup(reviewer, secret), "error": str(problem)}, 422)
    return _account(request, reviewer, {"notice": "Two-step sign-in is on." if action == "confirm"
                                        else "Two-step sign-in is off."})


PASSWORD_MESSAGES = {
    "credentials": "Your current password is not right. Nothing was changed.",
    "rate_limited": "Too many wrong passwords. Wait 15 minutes and try again, or ask an admin. Nothing was "
                    "changed.",
}


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request) -> Response:
    reviewer = current_reviewer(request)
    if reviewer is None:
        return _to_sign_in()
    return _password(request, reviewer)


def _password(request: Request, reviewer: Reviewer, context: dict[str, Any] | None = None,
              status_code: int = 200) -> Response:
    return render(request, "desk/password.html", {"title": "Change your password", "reviewer": reviewer,
                                                  "min_length": MIN_PASSWORD_LENGTH, **(context or {})},
                  status_code)


@router.post("/account/password", response_class=HTMLResponse)
def password_change(request: Request, current: str = Form(""), new: str = Form(""), repeated: str = Form(""),
                    csrf: str = Form("")) -> Response:
    """A reviewer changes their own password; every session of the account ends and this browser gets a
    new one. The form is never filled in again after an error."""
    reviewer = _form_sender(request, csrf)
    if isinstance(reviewer, Response):
        return reviewer
    error, status, cookie, signed_in = "", 200, "", None
    with database(request).write() as session:  # committed even when refused: wrong passwords must count
        user = session.get(User, reviewer.id)
        assert user is not None
        try:
            cookie = change_own_password(session, user, current, new, repeated, client_address(request))
            signed_in = session_reviewer(session, cookie)
        except SignInRefused as refused:
            error = PASSWORD_MESSAGES[refused.reason]
            status = 429 if refused.reason == "rate_limited" else 401
        except UserError as problem:
            error, status = f"{str(problem)[:1].upper()}{str(problem)[1:]}. Nothing was changed.", 422
    if signed_in is None:
        return _password(request, reviewer, {"error": error}, status)
    response = _password(request, signed_in, {"notice": "Your password is changed. Everywhere else you were "
                                                         "signed in is now signed out."})
    set_session_cookie(response, request, cookie)
    return response
