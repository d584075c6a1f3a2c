"""Reviewer accounts: argon2id passwords, optional TOTP, signed-in sessions, and slowed-down guessing.

A session is a random cookie value; the database keeps only its SHA-256 and the session's CSRF token,
so ending a session (sign out, password change, expiry) takes effect at once on every server process.
Sessions expire after ``SESSION_IDLE`` without use and after ``SESSION_MAX`` in any case.

Guessing is slowed per email and per address: after ``MAX_FAILURES`` failed sign-ins within
``FAILURE_WINDOW`` further attempts are refused (even with the right password) until the window
passes; a wrong current password given to change one's own password counts the same way. Failures
are counted by keyed hash (``stanch.desk.tokens.keyed_hash``), never the plain values.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stanch.desk.audit import record
from stanch.desk.tokens import keyed_hash
from stanch.store.models import utcnow
from stanch.store.user_models import ROLES, LoginFailure, User, WebSession

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)
HASHER = PasswordHasher()
"""argon2id with argon2-cffi's recommended parameters (RFC 9106, low-memory profile). Tests swap in
the cheapest profile to stay fast; hashes record their parameters, so either verifies the other's."""


class UserError(ValueError):
    """A request about accounts that cannot be done; the message says why and what to do."""


class SignInRefused(Exception):
    """Sign-in failed; ``reason`` is ``credentials``, ``totp`` or ``rate_limited`` (say no more)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reviewer:
    """Who is signed in: what pages need to know about them."""

    id: int
    email: str
    role: str
    csrf_token: str

    @property
    def actor(self) -> str:
        """The audit log's name for them."""
        return f"user:{self.email}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _normal_email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or len(cleaned) > 320 or any(c.isspace() for c in cleaned):
        raise UserError(f"{email!r} is not an email address")
    return cleaned


def new_password() -> str:
    """A random password strong enough to hand out once (first start, reset)."""
    return secrets.token_urlsafe(15)


def create_user(session: Session, email: str, role: str, password: str, *, actor: str = "system") -> User:
    """Add an account; UserError when the email is taken, the role unknown or the password short."""
    address = _normal_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise UserError(f"an account for {address} already exists")
    user = User(email=address, role=role, password_hash=HASHER.hash(password))
    session.add(user)
    session.flush()
    record(session, actor, "user.create", ("user", user.id), {"email": address, "role": role})
    return user


def user_count(session: Session) -> int:
    """How many accounts exist (the first start creates one when there are none)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def get_user(session: Session, email: str) -> User:
    """The account for ``email``; UserError when there is none."""
    user = session.scalar(select(User).where(User.email == _normal_email(email)))
    if user is None:
        raise UserError(f"no account for {email}: create it with 'stanch users create'")
    return user


def set_password(session: Session, user: User, password: str, *, actor: str) -> None:
    """Change a password and end every session of that account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    user.password_hash = HASHER.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record(session, actor, "user.password", ("user", user.id))


def change_own_password(
    session: Session, user: User, current: str, new: str, repeated: str, address: str, *,
    now: datetime | None = None,
) -> str:
    """A signed-in reviewer changes their own password; returns the cookie of a new session for them.

    The current password must be right: a wrong one counts as a failed sign-in for the account and the
    address (``MAX_FAILURES`` lock sign-in too), so a desk left open cannot be used to guess it. Then
    ``set_password`` applies the usual rules and ends every session of the account, and the reviewer
    gets a fresh one. Raises SignInRefused (``credentials``, ``rate_limited``: the caller must commit
    so that the failure counts) or UserError (nothing written).
    """
    now = now or utcnow()
    keys = _unlocked_keys(session, user.email, address, now)
    if not _password_matches(user.password_hash, current):
        raise _failure(session, keys, now, "credentials")
    if new != repeated:
        raise UserError("the two new passwords differ: type the same new password twice")
    set_password(session, user, new, actor=f"user:{user.email}")
    return start_session(session, user, now=now)


def enable_totp(session: Session, user: User, *, actor: str) -> str:
    """Turn on two-step sign-in; returns the provisioning URI to show as text or a QR code once."""
    user.totp_secret = pyotp.random_base32()
    record(session, actor, "user.totp_on", ("user", user.id))
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name="Stanch")


def disable_user(session: Session, user: User, *, actor: str) -> None:
    """Stop an account from signing in (someone left the team); its sessions end at once. Kept, not
    deleted, because the audit log names it."""
    user.disabled_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record(session, actor, "user.disable", ("user", user.id))


def new_totp_secret() -> str:
    """A fresh authenticator secret, to show the reviewer before it is turned on (``confirm_totp``)."""
    return pyotp.random_base32()


def totp_uri(email: str, secret: str) -> str:
    """The ``otpauth://`` link an authenticator app accepts."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Stanch")


def confirm_totp(session: Session, user: User, secret: str, code: str, *, actor: str) -> None:
    """Turn on two-step sign-in with ``secret`` once the reviewer proves their app has it (``code``);
    UserError otherwise, so nobody locks themselves out with a secret their app never stored."""
    try:
        valid = pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1)
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise UserError("that code does not match: check the app shows Stanch and enter its newest code")
    user.totp_secret = secret
    record(session, actor, "user.totp_on", ("user", user.id))


def disable_totp(session: Session, user: User, *, actor: str) -> None:
    """Turn two-step sign-in off (for a lost phone; an admin does it)."""
    user.totp_secret = None
    record(session, actor, "user.totp_off", ("user", user.id))


def _unlocked_keys(session: Session, email: str, address: str, now: datetime) -> list[str]:
    """What failed sign-ins are counted against (the email and the address, as keyed hashes); raises
    SignInRefused ``rate_limited`` while either has ``MAX_FAILURES`` in the window."""
    keys = [keyed_hash(session, "email:" + email), keyed_hash(session, "addr:" + address)]
    if _too_many_failures(session, keys, now):
        raise SignInRefused("rate_limited")
    return keys


def _failure(session: Session, keys: list[str], now: datetime, reason: str) -> SignInRefused:
    """Count a failed attempt against ``keys``; the refusal to raise (the caller must commit)."""
    session.add_all([LoginFailure(key_hash=key, at=now) for key in keys])
    return SignInRefused(reason)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def _too_many_failures(session: Session, keys: list[str], now: datetime) -> bool:
    since = now - FAILURE_WINDOW
    for key in keys:
        count = session.scalar(
            select(func.count()).select_from(LoginFailure)
            .where(LoginFailure.key_hash == key, LoginFailure.at >= since)
        )  # fmt: skip
        if (count or 0) >= MAX_FAILURES:
            return True
    return False


def sign_in(
    session: Session, email: str, password: str, totp_code: str | None, address: str, *,
    now: datetime | None = None,
) -> tuple[User, str]:
    """Check credentials and start a session: returns the user and the cookie value (shown only now).

    Raises SignInRefused; every failure is recorded against the email and the address. The caller
    must commit even when this raises, so that the failure counts.
    """
    now = now or utcnow()
    keys = _unlocked_keys(session, email, address, now)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    reason = _check(user, password, totp_code)
    if reason is not None or user is None:
        raise _failure(session, keys, now, reason or "credentials")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    cookie = start_session(session, user, now=now)
    record(session, f"user:{user.email}", "user.sign_in", ("user", user.id))
    return user, cookie


def _check(user: User | None, password: str, totp_code: str | None) -> str | None:
    """None when the credentials are right, else the reason (checked in the same time either way)."""
    if not _password_matches(user.password_hash if user else _dummy_hash(), password):
        return "credentials"
    if user is None or user.disabled_at is not None:
        return "credentials"
    if user.totp_secret is not None:
        code = (totp_code or "").strip().replace(" ", "")
        if not pyotp.TOTP(user.totp_secret).verify(code, valid_window=1):
            return "totp"
    return None


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so a missing account takes as long as a wrong
    password."""
    return HASHER.hash(secrets.token_urlsafe(16))


def _digest(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode("utf-8", "surrogatepass")).digest()


def start_session(session: Session, user: User, *, now: datetime | None = None) -> str:
    """A new session for ``user``; returns the cookie value (only its digest is stored)."""
    now = now or utcnow()
    cookie = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(cookie), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, last_seen=now, expires_at=now + SESSION_MAX))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return cookie


def session_reviewer(session: Session, cookie: str | None, *, now: datetime | None = None) -> Reviewer | None:
    """Who the cookie belongs to, or None when it is unknown, expired, idle too long or disabled."""
    if not cookie:
        return None
    now = now or utcnow()
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == _digest(cookie))
    ).first()  # fmt: skip
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= now or web_session.last_seen + SESSION_IDLE <= now or user.disabled_at:
        return None
    if now - web_session.last_seen > timedelta(minutes=1):
        web_session.last_seen = now
    return Reviewer(user.id, user.email, user.role, web_session.csrf_token)


def end_session(session: Session, cookie: str | None) -> None:
    """Sign out: the cookie stops working at once."""
    if cookie:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(cookie)))


FIRST_ADMIN_EMAIL = "admin@localhost"


def ensure_first_admin(session: Session, email: str | None = None) -> tuple[str, str] | None:
    """On a database with no account, create an admin (``email`` or ``admin@localhost``) and return
    ``(email, password)`` to print once; None when accounts exist."""
    if user_count(session):
        return None
    password = new_password()
    user = create_user(session, email or FIRST_ADMIN_EMAIL, "admin", password, actor="system")
    return user.email, password


def list_users(session: Session) -> list[User]:
    """Every desk account, by email."""
    return list(session.scalars(select(User).order_by(User.email)))


def account_of(session: Session, reviewer: Reviewer) -> User:
    """The account of a signed-in reviewer (``UserError`` if it was deleted meanwhile)."""
    user = session.get(User, reviewer.id)
    if user is None:
        raise UserError("this account no longer exists")
    return user
