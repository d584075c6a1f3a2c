"""Email backends: SMTP (STARTTLS or TLS), ``.eml`` files in a folder, or the log (the default).

Every backend receives the same ``EmailMessage``; its ``Message-ID`` is the outbox message's id, so a
message retried after an uncertain failure can be recognised as a duplicate.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stanch.actions.delivery import DeliveryError, Message, Sender
from stanch.actions.settings import ActionSettings

log = logging.getLogger("stanch.actions.email")
SMTP_TIMEOUT = 30.0
_MAX_ADDRESS_CHARS = 254
"""The longest address SMTP can carry (RFC 5321's path limit less its angle brackets)."""


def check_address(address: str) -> str:
    """``address`` if it is one plain email address (no display name, no line breaks), else ValueError."""
    try:
        parsed = Address(addr_spec=address.strip())
    except (ValueError, IndexError):  # the parser's reason ("addr-spec local part ...") helps nobody
        raise ValueError(f"{address!r} is not an email address such as name@example.org") from None
    if len(parsed.addr_spec) > _MAX_ADDRESS_CHARS:
        raise ValueError(f"an email address has at most {_MAX_ADDRESS_CHARS} characters")
    if not parsed.domain or "." not in parsed.domain:
        raise ValueError(f"{address!r} is not an email address with a domain, such as name@example.org")
    return parsed.addr_spec


def build_email(message: Message, sender: str) -> EmailMessage:
    """The email for an outbox message whose payload holds the rendered ``subject`` and ``body``."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.recipient or ""
    email["Subject"] = message.payload["subject"]
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = f"<{message.uuid}@stanch>"
    email.set_content(message.payload["body"])
    return email


class ConsoleMailer:
    """Writes emails to the log instead of sending them: the default, for trying Stanch out.

    The recipient is never written: a requester's address must not reach any log line, and the log is
    where operators look first. The subject and the neutral body (no name, no content, no code) are.
    """

    def send(self, message: Message) -> None:
        log.info("email not sent (no STANCH_SMTP_URL or STANCH_EMAIL_DIR set; the recipient is not logged):"
                 "\nSubject: %s\n\n%s", message.payload["subject"], message.payload["body"])

    def close(self) -> None:
        """Nothing to release."""


class FileMailer:
    """Writes each email to ``<folder>/<message id>.eml``; a retry rewrites the same file."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    def send(self, message: Message) -> None:
        email = build_email(message, self._sender)
        path = self._folder / f"{message.uuid}.eml"
        partial = path.with_suffix(".eml.partial")
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(email.as_bytes())
            os.replace(partial, path)  # readers never see half a message
        except OSError as error:
            raise DeliveryError(f"could not write {path}: {error}") from None

    def close(self) -> None:
        """Nothing to release."""


class SmtpMailer:
    """Sends through an SMTP server, encrypted: STARTTLS for ``smtp://`` (refusing servers that do
    not offer it), TLS from the first byte for ``smtps://``."""

    def __init__(self, url: str, sender: str, *, timeout: float = SMTP_TIMEOUT) -> None:
        parts = urlsplit(url)
        self._implicit_tls = parts.scheme == "smtps"
        self._host = parts.hostname or ""
        self._port = parts.port or (465 if self._implicit_tls else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self._sender = sender
        self._timeout = timeout

    def send(self, message: Message) -> None:
        email = build_email(message, self._sender)
        where = f"the mail server {self._host}:{self._port}"
        try:
            with self._connect() as smtp:
                if self._user:
                    smtp.login(self._user, self._password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError(f"{where} refused the recipient address", permanent=True) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"{where} refused the user and password in STANCH_SMTP_URL: "
                                f"{error.smtp_code} {error.smtp_error!r}") from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"{where} answered {error.smtp_code} {error.smtp_error!r}",
                                permanent=500 <= error.smtp_code < 600) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"could not send through {where}: {error}") from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self._implicit_tls:
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryError(f"the mail server {self._host}:{self._port} does not offer STARTTLS; "
                                    "Stanch does not send email unencrypted (use smtps:// for a TLS port)")
            smtp.starttls(context=context)
            smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        """Connections are opened per message; nothing stays open."""


def mailer_from_settings(settings: ActionSettings) -> Sender:
    """The backend the settings choose: SMTP, else a folder, else the log."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.email_from)
    if settings.email_dir:
        return FileMailer(settings.email_dir, settings.email_from)
    return ConsoleMailer()
