"""The desk's checks as FastAPI dependencies: who is signed in, whether they are an admin, and whether a
form came from their open desk page (its CSRF token).

A page declares what it needs (``reviewer: SignedIn``, ``reviewer: FormSender``, ``reviewer: AdminForm``)
and a refusal is raised as an exception that ``install_refusals`` answers the same way everywhere: to
the sign-in page when signed out (401 for a preview image), 403 with the reason otherwise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from stanch.desk.users import Reviewer, session_reviewer
from stanch.runtime import Runtime
from stanch.web.security import SESSION_COOKIE, csrf_ok
from stanch.web.templating import render

STALE_FORM = ("This form was not sent from your open desk page (its security token is missing or old). "
              "Nothing was changed. Go back, reload the page and try again.")
ADMINS_ONLY = "Only admins manage accounts."


class SignInNeeded(Exception):
    """Nobody is signed in: a page goes to the sign-in form, an image is refused with 401."""

    def __init__(self, redirect: bool = True) -> None:
        super().__init__("sign in first")
        self.redirect = redirect


class NotAllowed(Exception):
    """A signed-in reviewer may not do this (not an admin, or a stale form): 403 with ``message``."""

    def __init__(self, reviewer: Reviewer, message: str) -> None:
        super().__init__(message)
        self.reviewer, self.message = reviewer, message


def current_reviewer(request: Request, app: Runtime) -> Reviewer | None:
    """The signed-in reviewer, or None (the sign-in form needs no one)."""
    with app.db.write() as session:
        return session_reviewer(session, request.cookies.get(SESSION_COOKIE))


def signed_in(reviewer: Annotated[Reviewer | None, Depends(current_reviewer)]) -> Reviewer:
    """The signed-in reviewer; to the sign-in page otherwise."""
    if reviewer is None:
        raise SignInNeeded()
    return reviewer


def signed_in_viewer(reviewer: Annotated[Reviewer | None, Depends(current_reviewer)]) -> Reviewer:
    """The signed-in reviewer; 401 otherwise (for images, which cannot follow a redirect to a form)."""
    if reviewer is None:
        raise SignInNeeded(redirect=False)
    return reviewer


SignedIn = Annotated[Reviewer, Depends(signed_in)]
Viewer = Annotated[Reviewer, Depends(signed_in_viewer)]


def form_sender(reviewer: SignedIn, csrf: str = Form("")) -> Reviewer:
    """The signed-in reviewer who sent this form from their open desk page (403 on a missing or old
    CSRF token)."""
    if not csrf_ok(reviewer.csrf_token, csrf):
        raise NotAllowed(reviewer, STALE_FORM)
    return reviewer


def admin(reviewer: SignedIn) -> Reviewer:
    """The signed-in reviewer if an admin (403 otherwise)."""
    if not reviewer.is_admin:
        raise NotAllowed(reviewer, ADMINS_ONLY)
    return reviewer


def admin_form_sender(reviewer: Annotated[Reviewer, Depends(admin)], csrf: str = Form("")) -> Reviewer:
    """An admin's form from their open desk page (403 for a non-admin first, then for a stale token)."""
    if not csrf_ok(reviewer.csrf_token, csrf):
        raise NotAllowed(reviewer, STALE_FORM)
    return reviewer


FormSender = Annotated[Reviewer, Depends(form_sender)]
Admin = Annotated[Reviewer, Depends(admin)]
AdminForm = Annotated[Reviewer, Depends(admin_form_sender)]


def to_sign_in() -> Response:
    return RedirectResponse("/desk/sign-in", status_code=303)


def message(request: Request, reviewer: Reviewer | None, title: str, text: str, status_code: int) -> Response:
    """The desk's one-message page (no such case, not allowed, ...)."""
    return render(request, "desk/message.html", {"title": title, "message": text, "reviewer": reviewer},
                  status_code)


def install_refusals(app: FastAPI) -> None:
    """Answer ``SignInNeeded`` and ``NotAllowed`` wherever a desk dependency raises them."""

    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        return to_sign_in() if exc.redirect else Response(status_code=401)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotAllowed)
        return message(request, exc.reviewer, "Not allowed", exc.message, 403)

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(NotAllowed, not_allowed)
