"""Helpers shared by the desk's tests: a valid request body, and hashes of generated pictures."""

from __future__ import annotations

from typing import Any

from stanch.signals import hash_media, signals_record
from tests.api.conftest import encoded, picture


def picture_record(seed: int) -> dict[str, Any]:
    """The ``stanch hash`` record of a generated picture (different for each seed)."""
    return signals_record(hash_media(encoded(picture(seed))))


def request_body(**changes: Any) -> dict[str, Any]:
    """A complete, valid request; ``changes`` replace fields (None removes one)."""
    body: dict[str, Any] = {
        "requester": {"name": "Alex Example", "email": "alex@example.org"},
        "relationship": "self",
        "signature": "Alex Example",
        "good_faith": True,
        "statement": "These pictures of me were published without my consent.",
        "locations": ["https://platform.example/p/1"],
        "hashes": [{"pdq": "f" * 64, "quality": 100}],
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body
