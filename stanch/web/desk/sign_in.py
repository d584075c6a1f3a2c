"""Signing in to the desk (password, and the authenticator's code when two-step sign-in is on) and out.

The sign-in form has no session yet, so its CSRF protection is the form token of ``web.security``.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stanch.desk.users import SignInRefused, end_session, sign_in
from stanch.runtime import Runtime
from stanch.web.desk.deps import FormSender, to_sign_in
from stanch.web.security import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
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


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    return _form(request, None, "", 200)


def _form(request: Request, error: str | None, email: str, status_code: int) -> Response:
    token = form_token(request)
    response = render(request, "desk/sign_in.html", {"title": "Sign in", "form_token": token, "error": error,
                                                     "email": email}, status_code)
    set_form_cookie(response, request, token)
    return response


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    app: Runtime,
    form_token_value: str = Form("", alias="form_token"),
    email: str = Form(""),
    password: str = Form(""),
    totp: str = Form(""),
) -> Response:
    refused: str | None = None
    cookie = ""
    if not form_token_ok(request, form_token_value):
        refused = "stale"
    else:
        with app.db.write() as session:  # committed even when refused: failures must count
            try:
                _, cookie = sign_in(session, email, password, totp or None, client_address(request))
            except SignInRefused as error:
                refused = error.reason
    if refused is not None:
        message = SIGN_IN_MESSAGES.get(refused, "The sign-in form was old. Please try again.")
        status = 429 if refused == "rate_limited" else 403 if refused == "stale" else 401
        return _form(request, message, email, status)
    signed_in = RedirectResponse("/desk", status_code=303)
    set_session_cookie(signed_in, request, cookie)
    return signed_in


@router.post("/sign-out")
def sign_out(request: Request, app: Runtime, reviewer: FormSender) -> Response:
    with app.db.write() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE))
    response = to_sign_in()
    clear_session_cookie(response, request)
    return response
