"""Case numbers, secret codes and keyed hashes: what lets people follow a case without an account.

A case number (``STN-7K3Q-9XPM``) is short enough to read over the phone and carries 40 random bits in
Crockford's alphabet (no I, L, O or U to misread), so numbers cannot be enumerated. The secret code is
128 random bits shown once; only its SHA-256 is stored (a digest of a high-entropy secret needs no
slow password hash) and comparisons take constant time.

Addresses and emails are counted for rate limits as HMAC-SHA-256 under a key that is the
``STANCH_DESK_KEY`` setting or, without it, a random key generated once and kept in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from sqlalchemy.orm import Session

from stanch.bodies import unstorable
from stanch.desk.desk_secrets import stored_or_new_secret

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_KEY_NAME = "contact_hmac"


def new_case_number(prefix: str = "STN") -> str:
    """``STN-XXXX-XXXX``: 8 random characters of Crockford base 32 (40 bits)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def normalise_case_number(text: str) -> str:
    """Accept the number as people type it: any case, spaces, and (after the prefix) O for 0, I and L
    for 1. Text that no column could hold (a NUL, a lone surrogate) is no case number: it becomes the
    empty string, which matches nothing, so the caller answers "unknown" instead of failing the query."""
    if unstorable(text):
        return ""
    prefix, dash, rest = text.strip().upper().replace(" ", "").partition("-")
    return prefix + dash + rest.translate(str.maketrans("OIL", "011"))


def new_token() -> str:
    """A secret code of 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def token_digest(token: str) -> bytes:
    """What is stored of a secret code."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def token_matches(token: str | None, stored: bytes) -> bool:
    """Whether ``token`` is the code whose digest is ``stored`` (constant time)."""
    return token is not None and hmac.compare_digest(token_digest(token), stored)


def keyed_hash(session: Session, value: str) -> str:
    """HMAC-SHA-256 (hex) of ``value``, normalised (trimmed, lower case), under the desk's key."""
    normalised = value.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(_desk_key(session), normalised, hashlib.sha256).hexdigest()


def _desk_key(session: Session) -> bytes:
    configured = os.environ.get("STANCH_DESK_KEY")
    if configured:
        return configured.encode("utf-8")
    return stored_or_new_secret(session, _KEY_NAME)
