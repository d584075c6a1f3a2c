"""Reviewer accounts, their signed-in sessions and failed sign-ins, as SQLAlchemy 2 models.

The logic lives in ``stanch.desk.users``. A password is kept only as an argon2id hash; a session is
kept only as the SHA-256 of its cookie value, so a copy of the table lets nobody sign in. Failed
sign-ins are counted per email and per address (kept as keyed hashes) to slow down guessing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from stanch.clock import utcnow
from stanch.store.models import Base, BigId, UtcDateTime

ROLES = ("reviewer", "admin")
"""``reviewer`` works the queue and decides; ``admin`` also manages accounts."""


class User(Base):
    """A person who signs in to the desk."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    """The time step of the last authenticator code accepted: a code is refused a second time."""
    """Base32 secret of the authenticator app, when two-step sign-in is on."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebSession(Base):
    """One signed-in browser: the cookie's digest, its CSRF token, and when it stops being valid."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginFailure(Base):
    """One failed sign-in, counted by keyed hash of the email or of the address it came from."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
