"""Where messages go: the webhook endpoint, the email backend and the public address, from the environment.

=========================  ==============================================================================
``STANCH_WEBHOOK_URL``     the platform's endpoint for actions (``https://…``); unset: webhooks wait
``STANCH_WEBHOOK_SECRET``  shared secret for the ``X-Stanch-Signature`` HMAC; required with the URL
``STANCH_WEBHOOK_TIMEOUT`` seconds to wait for the platform's answer (default 10)
``STANCH_SMTP_URL``        ``smtp://user:password@host:587`` (STARTTLS) or ``smtps://…:465`` (TLS)
``STANCH_EMAIL_DIR``       without SMTP: write each email as an ``.eml`` file in this folder
``STANCH_EMAIL_FROM``      the From address (default ``Stanch <no-reply@localhost>``)
``STANCH_PUBLIC_URL``      the address people reach Stanch's pages at; emails link to its ``/status``
``STANCH_DESK_EMAIL``      the review team's address, for escalation notices; unset: none are sent
``STANCH_DSA_TDB_URL``     the DSA Transparency Database (``https://…``); unset: statements are not sent
``STANCH_DSA_TDB_TOKEN``   its API token (sent as ``Authorization: Bearer``); required with the URL
=========================  ==============================================================================

Without ``STANCH_SMTP_URL`` or ``STANCH_EMAIL_DIR`` emails go to the log (the console backend), so a
fresh install loses nothing and needs no mail server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from stanch.config import ConfigError

DEFAULT_EMAIL_FROM = "Stanch <no-reply@localhost>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_WEBHOOK_TIMEOUT = 10.0


class SettingsError(ConfigError):
    """A setting is missing or malformed; the message names the variable and what to put in it."""


@dataclass(frozen=True)
class ActionSettings:
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    smtp_url: str | None = None
    email_dir: Path | None = None
    email_from: str = DEFAULT_EMAIL_FROM
    public_url: str = DEFAULT_PUBLIC_URL

    def __post_init__(self) -> None:
        if self.webhook_url is not None:
            _check_url("STANCH_WEBHOOK_URL", self.webhook_url, ("http", "https"))
            if not self.webhook_secret:
                raise SettingsError("STANCH_WEBHOOK_SECRET must be set when STANCH_WEBHOOK_URL is: "
                                    "webhooks are always signed (use a long random string)")
        if self.webhook_timeout <= 0:
            raise SettingsError("STANCH_WEBHOOK_TIMEOUT must be a positive number of seconds")
        if self.smtp_url is not None:
            _check_url("STANCH_SMTP_URL", self.smtp_url, ("smtp", "smtps"))
        _check_url("STANCH_PUBLIC_URL", self.public_url, ("http", "https"))

    @property
    def email_backend(self) -> str:
        """``smtp``, ``file`` or ``console``: the first one configured, in that order."""
        if self.smtp_url:
            return "smtp"
        return "file" if self.email_dir else "console"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ActionSettings:
        """Settings from ``environ`` (default ``os.environ``); empty variables count as unset."""
        env = {k: v for k, v in (os.environ if environ is None else environ).items() if v.strip()}
        timeout = env.get("STANCH_WEBHOOK_TIMEOUT", str(DEFAULT_WEBHOOK_TIMEOUT))
        try:
            seconds = float(timeout)
        except ValueError:
            raise SettingsError(f"STANCH_WEBHOOK_TIMEOUT={timeout!r} is not a number of seconds") from None
        return cls(
            webhook_url=env.get("STANCH_WEBHOOK_URL"),
            webhook_secret=env.get("STANCH_WEBHOOK_SECRET"),
            webhook_timeout=seconds,
            smtp_url=env.get("STANCH_SMTP_URL"),
            email_dir=Path(env["STANCH_EMAIL_DIR"]) if "STANCH_EMAIL_DIR" in env else None,
            email_from=env.get("STANCH_EMAIL_FROM", DEFAULT_EMAIL_FROM),
            public_url=public_url(env),
        )


def site_name(environ: Mapping[str, str] | None = None) -> str:
    """``STANCH_SITE_NAME``: the platform's name on the public pages and in exports (default Stanch)."""
    env = os.environ if environ is None else environ
    return (env.get("STANCH_SITE_NAME") or "").strip() or "Stanch"


def public_url(environ: Mapping[str, str] | None = None) -> str:
    """``STANCH_PUBLIC_URL`` without its trailing slash (checked), or the default.

    Read on its own by code that only needs it (queuing an email), so a webhook misconfiguration
    stops the dispatcher rather than every request that sends an email."""
    env = os.environ if environ is None else environ
    url = (env.get("STANCH_PUBLIC_URL") or "").strip() or DEFAULT_PUBLIC_URL
    _check_url("STANCH_PUBLIC_URL", url, ("http", "https"))
    return url.rstrip("/")


def dsa_tdb(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(STANCH_DSA_TDB_URL, STANCH_DSA_TDB_TOKEN)``, or None when the URL is unset (submission off).

    Read on its own, like ``public_url``, by the code that marks statements for the database."""
    env = os.environ if environ is None else environ
    url = (env.get("STANCH_DSA_TDB_URL") or "").strip()
    if not url:
        return None
    _check_url("STANCH_DSA_TDB_URL", url, ("https", "http"))
    token = (env.get("STANCH_DSA_TDB_TOKEN") or "").strip()
    if not token:
        raise SettingsError("STANCH_DSA_TDB_TOKEN must be set when STANCH_DSA_TDB_URL is: it is the API "
                            "token the DSA Transparency Database gave the platform")
    return url.rstrip("/"), token


def desk_email(environ: Mapping[str, str] | None = None) -> str | None:
    """``STANCH_DESK_EMAIL`` (stripped), or None when it is unset or empty.

    Read on its own, like ``public_url``, by the clock that queues escalation notices; the address is
    checked when the notice is queued."""
    env = os.environ if environ is None else environ
    return (env.get("STANCH_DESK_EMAIL") or "").strip() or None


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(f"{name}={_without_password(url)!r} is not a {' or '.join(schemes)} URL "
                            f"with a host, such as {schemes[0]}://example.org")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
