"""Accounts: admins list and create them; every reviewer manages their own two-step sign-in and
password."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from stanch.desk.users import (
    MIN_PASSWORD_LENGTH,
    Reviewer,
    SignInRefused,
    UserError,
    account_of,
    change_own_password,
    confirm_totp,
    create_user,
    disable_totp,
    list_users,
    new_password,
    new_totp_secret,
    session_reviewer,
    totp_uri,
)
from stanch.runtime import Runtime, Stanch
from stanch.store.user_models import ROLES
from stanch.web.desk.deps import Admin, AdminForm, FormSender, SignedIn
from stanch.web.qr import qr_svg
from stanch.web.security import client_address, set_session_cookie
from stanch.web.templating import render

router = APIRouter(prefix="/desk", include_in_schema=False)

PASSWORD_MESSAGES = {
    "credentials": "Your current password is not right. Nothing was changed.",
    "rate_limited": "Too many wrong passwords. Wait 15 minutes and try again, or ask an admin. Nothing was "
                    "changed.",
}


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, app: Runtime, reviewer: Admin) -> Response:
    return _users(request, app, reviewer)


def _users(request: Request, app: Stanch, reviewer: Reviewer, context: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    with app.db.read() as session:
        users = list_users(session)
    return render(request, "desk/users.html", {"title": "Accounts", "reviewer": reviewer, "users": users,
                                               "roles": ROLES, **(context or {})}, status_code)


@router.post("/users", response_class=HTMLResponse)
def users_create(request: Request, app: Runtime, reviewer: AdminForm, email: str = Form(""),
                 role: str = Form("reviewer")) -> Response:
    password = new_password()
    try:
        with app.db.write() as session:
            create_user(session, email, role, password, actor=reviewer.actor)
    except UserError as problem:
        return _users(request, app, reviewer, {"error": str(problem)}, 422)
    return _users(request, app, reviewer, {"created": {"email": email.strip().lower(), "password": password}})


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, app: Runtime, reviewer: SignedIn) -> Response:
    return _account(request, app, reviewer)


def _account(request: Request, app: Stanch, reviewer: Reviewer, context: dict[str, Any] | None = None,
             status_code: int = 200) -> Response:
    with app.db.read() as session:
        totp_on = bool(account_of(session, reviewer).totp_secret)
    return render(request, "desk/account.html", {"title": "Your account", "reviewer": reviewer,
                                                 "totp_on": totp_on, **(context or {})}, status_code)


def _totp_setup(reviewer: Reviewer, secret: str) -> dict[str, Any]:
    """What the account page shows to add ``secret`` to an app: the secret, its link and the link's QR."""
    uri = totp_uri(reviewer.email, secret)
    return {"secret": secret, "uri": uri, "qr": qr_svg(uri, "QR code to add Stanch to an authenticator app")}


@router.post("/account/totp", response_class=HTMLResponse)
def account_totp(request: Request, app: Runtime, reviewer: FormSender, action: str = Form(""),
                 secret: str = Form(""), code: str = Form("")) -> Response:
    """Two-step sign-in for oneself: ``start`` shows a new secret, ``confirm`` turns it on once a code
    from the app matches, ``off`` turns it off."""
    if action == "start":
        return _account(request, app, reviewer, _totp_setup(reviewer, new_totp_secret()))
    try:
        with app.db.write() as session:
            user = account_of(session, reviewer)
            if action == "confirm":
                confirm_totp(session, user, secret, code, actor=reviewer.actor)
            elif action == "off":
                disable_totp(session, user, actor=reviewer.actor)
    except UserError as problem:
        return _account(request, app, reviewer, {**_totp_setup(reviewer, secret), "error": str(problem)}, 422)
    return _account(request, app, reviewer, {"notice": "Two-step sign-in is on." if action == "confirm"
                                             else "Two-step sign-in is off."})


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, reviewer: SignedIn) -> Response:
    return _password(request, reviewer)


def _password(request: Request, reviewer: Reviewer, context: dict[str, Any] | None = None,
              status_code: int = 200) -> Response:
    return render(request, "desk/password.html", {"title": "Change your password", "reviewer": reviewer,
                                                  "min_length": MIN_PASSWORD_LENGTH, **(context or {})},
                  status_code)


@router.post("/account/password", response_class=HTMLResponse)
def password_change(request: Request, app: Runtime, reviewer: FormSender, current: str = Form(""),
                    new: str = Form(""), repeated: str = Form("")) -> Response:
    """A reviewer changes their own password; every session of the account ends and this browser gets a
    new one. The form is never filled in again after an error."""
    error, status, cookie, signed_in = "", 200, "", None
    with app.db.write() as session:  # committed even when refused: wrong passwords must count
        user = account_of(session, reviewer)
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
