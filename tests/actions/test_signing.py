"""``verify_signature``: what a platform uses to check Stanch's webhooks."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from stanch.actions import sign, verify_signature

SECRET = "whsec-example"
BODY = b'{"data":{"item_id":"p/1"},"id":"x","type":"remove_item"}'
NOW = 1_795_000_000


def test_the_signature_is_documented_hmac() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == f"sha256={expected}"


def test_a_good_signature_verifies_as_bytes_or_text() -> None:
    header = sign(SECRET, NOW, BODY)
    assert verify_signature(SECRET, str(NOW), BODY, header, now=NOW)
    assert verify_signature(SECRET, NOW, BODY.decode(), header, now=NOW + 299)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now"),
    [
        ("wrong", NOW, BODY, NOW),                     # another secret
        (SECRET, NOW, BODY + b" ", NOW),               # body changed
        (SECRET, NOW + 1, BODY, NOW),                  # timestamp changed
        (SECRET, NOW, BODY, NOW + 301),                # stale: a replay
        (SECRET, NOW, BODY, NOW - 301),                # from the future
        (SECRET, "soon", BODY, NOW),                   # not a timestamp
    ],
)
def test_anything_else_is_refused(secret: str, timestamp: object, body: bytes, now: int) -> None:
    header = sign(SECRET, NOW, BODY)
    assert not verify_signature(secret, timestamp, body, header, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize("header", ["", "sha256=", "md5=abc", sign(SECRET, NOW, BODY).upper()])
def test_malformed_headers_are_refused(header: str) -> None:
    assert not verify_signature(SECRET, NOW, BODY, header, now=NOW)
