"""Reviewer accounts on SQLite and PostgreSQL: argon2id hashes, sessions that end, the first admin,
and ``stanch users``."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select
from typer.testing import CliRunner

from stanch.cli import app
from stanch.desk import users
from stanch.desk.audit import events
from stanch.desk.users import (
    SESSION_IDLE,
    SESSION_MAX,
    SignInRefused,
    UserError,
    create_user,
    ensure_first_admin,
    get_user,
    session_reviewer,
    set_password,
    sign_in,
    start_session,
)
from stanch.store import Database
from stanch.store.models import utcnow
from stanch.store.user_models import User

PASSWORD = "twelve chars at least"


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with the cheapest parameters: the same code paths, a fraction of the time."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


def test_passwords_are_stored_as_argon2id_only(database: Database) -> None:
    with database.write() as session:
        create_user(session, " Alice@Example.org ", "reviewer", PASSWORD)
    with database.read() as session:
        user = session.scalar(select(User))
        assert user is not None and user.email == "alice@example.org"
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert [e.action for e in events(session)] == ["user.create"]


@pytest.mark.parametrize(("email", "role", "password", "problem"), [
    ("bob@example.org", "owner", PASSWORD, "role must be one of reviewer, admin"),
    ("bob@example.org", "reviewer", "short", "at least 12 characters"),
    ("not an email", "reviewer", PASSWORD, "is not an email address"),
])
def test_bad_accounts_are_refused_with_the_reason(
    database: Database, email: str, role: str, password: str, problem: str
) -> None:
    with database.write() as session, pytest.raises(UserError, match=problem):
        create_user(session, email, role, password)


def test_an_email_has_one_account(database: Database) -> None:
    with database.write() as session:
        create_user(session, "bob@example.org", "reviewer", PASSWORD)
        with pytest.raises(UserError, match="already exists"):
            create_user(session, "BOB@example.org", "admin", PASSWORD)


def test_sessions_expire_when_idle_or_old_and_end_with_a_password_change(database: Database) -> None:
    now = utcnow()
    with database.write() as session:
        user = create_user(session, "carol@example.org", "admin", PASSWORD)
        cookie = start_session(session, user, now=now)
    with database.write() as session:
        reviewer = session_reviewer(session, cookie, now=now + timedelta(minutes=5))
        assert reviewer is not None and reviewer.is_admin and reviewer.actor == "user:carol@example.org"
        assert session_reviewer(session, cookie + "x", now=now) is None
        assert session_reviewer(session, cookie, now=now + timedelta(minutes=5) + SESSION_IDLE) is None
        assert session_reviewer(session, cookie, now=now + SESSION_MAX) is None
    with database.write() as session:
        set_password(session, get_user(session, "carol@example.org"), "another good password", actor="system")
    with database.write() as session:
        assert session_reviewer(session, cookie, now=now) is None


def test_sign_in_counts_failures_per_email(database: Database) -> None:
    with database.write() as session:
        create_user(session, "dan@example.org", "reviewer", PASSWORD)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"):
        with database.write() as session, pytest.raises(SignInRefused, match="credentials"):
            sign_in(session, "dan@example.org", "wrong guess", None, address)
    with database.write() as session, pytest.raises(SignInRefused, match="rate_limited"):
        sign_in(session, "dan@example.org", PASSWORD, None, "10.0.0.6")
    later = utcnow() + timedelta(minutes=16)
    with database.write() as session:
        user, cookie = sign_in(session, "dan@example.org", PASSWORD, None, "10.0.0.6", now=later)
        assert user.email == "dan@example.org" and cookie


def test_first_admin_is_created_once(database: Database) -> None:
    with database.write() as session:
        created = ensure_first_admin(session)
    assert created is not None and created[0] == "admin@localhost"
    with database.write() as session:
        assert ensure_first_admin(session) is None
        sign_in(session, created[0], created[1], None, "127.0.0.1")


@pytest.fixture
def stanch(db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STANCH_DATABASE_URL", db_url)
    return CliRunner()


def test_stanch_users_create_list_password_and_totp(stanch: CliRunner, database: Database) -> None:
    created = stanch.invoke(app, ["users", "create", "--email", "erin@example.org", "--role", "admin"])
    assert created.exit_code == 0, created.output
    password = created.output.strip().split()[-1]
    again = stanch.invoke(app, ["users", "create", "--email", "erin@example.org"])
    assert again.exit_code == 1 and "already exists" in again.output
    assert stanch.invoke(app, ["users", "list"]).output == "erin@example.org\tadmin\tno-totp\n"
    with database.write() as session:
        sign_in(session, "erin@example.org", password, None, "127.0.0.1")

    totp = stanch.invoke(app, ["users", "totp", "on", "--email", "erin@example.org"])
    secret = re.search(r"secret=([A-Z2-7]+)", totp.output)
    assert totp.exit_code == 0 and secret
    assert "\u2588\u2588\u2588\u2588 \u2584\u2584\u2584\u2584\u2584 \u2588" in totp.output  # QR finder
    with database.write() as session, pytest.raises(SignInRefused, match="credentials"):
        sign_in(session, "erin@example.org", password, None, "127.0.0.1")
    with database.write() as session:
        sign_in(session, "erin@example.org", password, pyotp.TOTP(secret.group(1)).now(), "127.0.0.1")

    renewed = stanch.invoke(app, ["users", "password", "--email", "erin@example.org"])
    assert renewed.exit_code == 0
    with database.write() as session, pytest.raises(SignInRefused):
        sign_in(session, "erin@example.org", password, pyotp.TOTP(secret.group(1)).now(), "127.0.0.2")
    with database.write() as session:
        next_code = pyotp.TOTP(secret.group(1)).at(time.time() + 30)  # the code used above works once
        _, cookie = sign_in(session, "erin@example.org", renewed.output.strip().split()[-1],
                            next_code, "127.0.0.3")
    assert stanch.invoke(app, ["users", "disable", "--email", "erin@example.org"]).exit_code == 0
    assert stanch.invoke(app, ["users", "list"]).output == "erin@example.org\tadmin\ttotp\tdisabled\n"
    with database.write() as session:
        assert session_reviewer(session, cookie) is None
    missing = stanch.invoke(app, ["users", "totp", "off", "--email", "nobody@example.org"])
    assert missing.exit_code == 1 and "no account" in missing.output


def test_serve_creates_the_first_admin_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from stanch.cli.serve import first_admin_user

    monkeypatch.setenv("STANCH_ADMIN_EMAIL", "Lead@Example.org")
    created = first_admin_user(db_url)
    assert created is not None and created[0] == "lead@example.org" and len(created[1]) >= 12
    assert first_admin_user(db_url) is None
