"""API keys: only a digest is stored, verification, revocation, scopes."""

from __future__ import annotations

import hashlib

import pytest

from stanch.store import create_key, list_keys, revoke_key, verify_key


def test_key_is_stored_hashed_and_verifies(session) -> None:
    row, key = create_key(session, "platform", "match,bank")
    assert key.startswith(f"stanch_{row.prefix}_") and len(key) > 50
    assert row.key_hash == hashlib.sha256(key.encode()).digest()
    assert key not in repr(list_keys(session)[0].__dict__)
    found = verify_key(session, key)
    assert found is not None and found.id == row.id and found.last_used is not None
    assert found.allows("match") and found.allows("bank") and not found.allows("desk")


def test_wrong_or_malformed_keys_are_refused(session) -> None:
    row, key = create_key(session, "platform", "match")
    assert verify_key(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert verify_key(session, f"stanch_{row.prefix}_") is None
    assert verify_key(session, "stanch_000000000000_whatever") is None
    assert verify_key(session, "") is None
    assert verify_key(session, "Bearer nonsense") is None


def test_revoked_key_stops_working(session) -> None:
    row, key = create_key(session, "old", "admin")
    assert revoke_key(session, row.prefix).revoked_at is not None
    assert verify_key(session, key) is None
    assert not row.allows("match")
    with pytest.raises(LookupError):
        revoke_key(session, "999")


def test_admin_allows_everything_and_scopes_are_checked(session) -> None:
    row, _ = create_key(session, "ops", ["admin"])
    assert all(row.allows(scope) for scope in ("match", "bank", "desk", "admin"))
    with pytest.raises(ValueError, match="unknown scope"):
        create_key(session, "x", "match,root")
    with pytest.raises(ValueError, match="at least one scope"):
        create_key(session, "x", "")
