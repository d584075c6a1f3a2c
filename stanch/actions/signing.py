"""Webhook signatures: how a platform knows a request came from its Stanch and was not replayed.

Stanch sends ``X-Stanch-Timestamp: <unix seconds>`` and
``X-Stanch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``. Signing the
timestamp with the body lets the receiver refuse old requests (a captured request replayed later),
which ``verify_signature`` does outside ``tolerance`` seconds either way.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300
"""Seconds a signed request stays acceptable: room for clock skew and retries in flight, little for replay."""


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Stanch-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    header: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether ``header`` is Stanch's signature of ``body`` at ``timestamp``, made recently enough.

    For platforms receiving webhooks: pass the raw request body (before any JSON parsing) and the
    two headers as received. Returns False for a stale or future timestamp, a malformed header or a
    wrong signature; the comparison takes the same time whatever the signature.
    """
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, sent_at, raw), header.strip())
