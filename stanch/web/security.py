"""What every page gets: security headers, the reviewer's session cookie, and CSRF checks.

Pages load nothing from other sites: the Content-Security-Policy allows only this origin (plus
``blob:`` for the thumbnails, video frames and the hashing worker a person's own files need), no
inline script, no framing. The session cookie is HttpOnly and SameSite=Strict, and Secure when the
page was reached over https (``STANCH_COOKIE_SECURE=1`` forces it behind a proxy that ends TLS, ``0``
turns it off for plain-http development).

Every POST from a signed-in reviewer carries the session's CSRF token in a hidden field. Public forms
are accepted when the browser says they came from this site (``Sec-Fetch-Site: same-origin``, so
people who block cookies can still ask for help) or, from browsers that do not say, when they carry a
token matching a cookie (double submit): another site cannot post them either way.
"""

from __future__ import annotations

import hmac
import os
import secrets

from fastapi import FastAPI, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self' blob:",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    "style-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
_API_DOCS = ("/docs", "/redoc", "/openapi.json")
"""The interactive API docs (Swagger UI, ReDoc; their assets under /docs-assets) keep their own headers."""
SESSION_COOKIE = "stanch_session"
FORM_COOKIE = "stanch_form"


def install_security_headers(app: FastAPI) -> None:
    """Add the headers above to every response except the API docs.

    A plain ASGI middleware (not ``BaseHTTPMiddleware``), so the match API pays only for a few headers.
    """
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """ASGI middleware: sets ``SECURITY_HEADERS`` (and ``Cache-Control: no-store`` outside /static)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_API_DOCS):
            await self.app(scope, receive, send)
            return
        extra = list(self.headers)
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cookie_secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: ``STANCH_COOKIE_SECURE`` (1/0), else when served over https."""
    setting = os.environ.get("STANCH_COOKIE_SECURE", "auto").strip().lower()
    if setting in {"1", "true", "yes"}:
        return True
    if setting in {"0", "false", "no"}:
        return False
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    """The reviewer's session: not readable by scripts, never sent by another site's request."""
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict",
                        secure=cookie_secure(request), path="/desk")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/desk", httponly=True, samesite="strict",
                           secure=cookie_secure(request))


def form_token(request: Request) -> str:
    """The CSRF token of a public form: the form cookie's value, or a new one (set it with the page)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def set_form_cookie(response: Response, request: Request, token: str) -> None:
    """Send the public form's token as a cookie as well (double submit)."""
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request))


def form_token_ok(request: Request, submitted: str | None) -> bool:
    """Whether a public form came from our own page.

    Browsers that send ``Sec-Fetch-Site`` say so themselves, which also serves people who block
    cookies; for the others the form's token must match its cookie (double submit).
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    cookie = request.cookies.get(FORM_COOKIE)
    return bool(cookie and submitted) and hmac.compare_digest(cookie or "", submitted or "")


def csrf_ok(expected: str, submitted: str | None) -> bool:
    """Whether a reviewer's POST carries their session's CSRF token."""
    return bool(submitted) and hmac.compare_digest(expected, submitted or "")


def client_address(request: Request) -> str:
    """The address a request came from (the proxy's, unless the server is told to trust headers)."""
    return request.client.host if request.client else "unknown"
