"""API keys: created once, shown once, stored as a SHA-256 digest, checked in constant time.

A key looks like ``stanch_<prefix>_<secret>``: the prefix (not secret) finds the row, the secret is
32 random bytes. SHA-256 is the right digest here, and argon2 is not needed: slow password hashes
exist to make guessing *low-entropy* human passwords expensive, while a 256-bit random secret cannot
be guessed however fast the hash is. A fast digest also keeps every API request cheap, where argon2
would cost tens of milliseconds and a CPU core per call (and hand attackers a way to exhaust it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.store.models import ApiKey

SCOPES = ("match", "bank", "desk", "admin")
"""``match`` ask whether media matches; ``bank`` add and withdraw entries; ``desk`` the takedown desk;
``admin`` everything."""
_PREFIX_BYTES = 6
_SECRET_BYTES = 32
_LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used`` is written at most this often per key, so a busy key does not make every request a write."""
_DUMMY_DIGEST = hashlib.sha256(b"no such key").digest()


def parse_scopes(text: str | list[str]) -> tuple[str, ...]:
    """Scopes from ``"match,bank"`` (or a list), checked and de-duplicated in a fixed order."""
    items = text.split(",") if isinstance(text, str) else text
    wanted = {item.strip() for item in items if item.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {', '.join(unknown)}; scopes are {', '.join(SCOPES)}")
    if not wanted:
        raise ValueError(f"give at least one scope: {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in wanted)


def create_key(session: Session, name: str, scopes: str | list[str]) -> tuple[ApiKey, str]:
    """Store a new key; returns the row and the key itself, which is never available again."""
    if not name.strip():
        raise ValueError("an API key needs a name saying who or what uses it")
    chosen = parse_scopes(scopes)
    prefix = secrets.token_hex(_PREFIX_BYTES)
    key = f"stanch_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    row = ApiKey(
        name=name.strip(), prefix=prefix, key_hash=_digest(key), scopes=",".join(chosen), created=utcnow()
    )
    session.add(row)
    session.flush()
    return row, key


def verify_key(session: Session, presented: str) -> ApiKey | None:
    """The active key matching ``presented``, or None. The comparison takes the same time whether
    the prefix exists or not, and however many characters of the secret are right.

    It also sets ``last_used`` (at most once a minute), which is kept if ``session`` is a write one.
    """
    prefix = _prefix_of(presented)
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix)) if prefix else None
    expected = row.key_hash if row is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(_digest(presented), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used is None or now - row.last_used >= _LAST_USED_EVERY:
        row.last_used = now
        session.flush()
    return row


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    """Revoke a key given its id or its prefix; ``LookupError`` if there is no such key."""
    query = select(ApiKey).where(ApiKey.prefix == key_id_or_prefix)
    if key_id_or_prefix.isdigit():
        query = select(ApiKey).where(ApiKey.id == int(key_id_or_prefix))
    row = session.scalar(query)
    if row is None:
        raise LookupError(f"no API key with id or prefix {key_id_or_prefix!r} (see stanch keys list)")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _prefix_of(presented: str) -> str | None:
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != "stanch" or len(parts[1]) != 2 * _PREFIX_BYTES:
        return None
    return parts[1]
