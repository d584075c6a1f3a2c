"""D1 (lockout bypassed with padded emails), D2 (an authenticator code used twice), D3 (parallel guesses
past the limit) and the wrong-code message that confirmed a right password."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pyotp
import pytest
from argon2 import PasswordHasher, profiles

from stanch.desk import users
from stanch.desk.users import MAX_FAILURES, SignInRefused, confirm_totp, create_user, sign_in
from stanch.store import Database

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


def _account(database: Database, email: str = "admin@x.example") -> None:
    with database.write() as session:
        create_user(session, email, "admin", PASSWORD)


def _attempt(database: Database, email: str, password: str, code: str | None = None,
             address: str = "198.51.100.7") -> str:
    """``ok`` or the refusal's reason; the transaction commits either way, as the desk's does."""
    with database.write() as session:
        try:
            sign_in(session, email, password, code, address)
        except SignInRefused as refused:
            return refused.reason
    return "ok"


def test_padded_and_cased_emails_share_one_failure_count(database: Database) -> None:
    _account(database)
    variants = [" admin@x.example", "\tadmin@x.example", "ADMIN@x.example ", "admin@x.example\n",
                "\uff41\uff44\uff4d\uff49\uff4e@x.example"]  # the last in full-width letters (NFKC)
    results = [_attempt(database, v, "wrong password", address=f"203.0.113.{k}")
               for k, v in enumerate(variants * 2)]
    assert results[:MAX_FAILURES] == ["credentials"] * MAX_FAILURES
    assert set(results[MAX_FAILURES:]) == {"rate_limited"}
    # Locked: the right password with yet another spelling, from a fresh address, is refused too.
    assert _attempt(database, "  Admin@X.example", PASSWORD, address="192.0.2.99") == "rate_limited"


def test_an_authenticator_code_signs_in_once(database: Database) -> None:
    _account(database)
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    with database.write() as session:
        confirm_totp(session, users.get_user(session, "admin@x.example"), secret, totp.now(), actor="system")
    code = totp.at(time.time() + 30)  # next step's code: valid now (one step of drift) and not yet used
    assert _attempt(database, "admin@x.example", PASSWORD, code) == "ok"
    assert _attempt(database, "admin@x.example", PASSWORD, code, address="192.0.2.1") == "credentials"
    older = totp.at(time.time() - 30)  # a step before the one used: also refused now
    assert _attempt(database, "admin@x.example", PASSWORD, older, address="192.0.2.2") == "credentials"


def test_a_wrong_code_answers_like_a_wrong_password(database: Database) -> None:
    _account(database)
    secret = pyotp.random_base32()
    with database.write() as session:
        confirm_totp(session, users.get_user(session, "admin@x.example"), secret,
                     pyotp.TOTP(secret).now(), actor="system")
    wrong_code = _attempt(database, "admin@x.example", PASSWORD, "000000", address="192.0.2.3")
    wrong_password = _attempt(database, "admin@x.example", "not it at all", None, address="192.0.2.4")
    assert wrong_code == wrong_password == "credentials"
    assert set(users.SIGN_IN_REASONS) == {"credentials", "rate_limited"}


def test_parallel_wrong_guesses_are_counted_one_after_another(database: Database) -> None:
    """80 at once got 19 checked guesses on PostgreSQL before: the count and the insert were apart."""
    _account(database)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda k: _attempt(database, "admin@x.example", f"guess {k}",
                                                   address="198.51.100.9"), range(40)))
    assert results.count("credentials") == MAX_FAILURES
    assert results.count("rate_limited") == 40 - MAX_FAILURES


def test_the_clock_decides_the_code_window() -> None:
    """The step comes from the sign-in's ``now``, not the machine's clock read elsewhere."""
    totp = pyotp.TOTP(pyotp.random_base32())
    moment = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)
    assert totp.timecode(moment) == int(moment.timestamp()) // 30
