"""What every request handler of one server process shares: the database, the engine, the key checker.

One ``Services`` value is built when the app starts (``stanch.api.app``) and reached from a handler
with ``services(request)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import Request

from stanch.api.auth import KeyChecker
from stanch.matching.engine import MatchEngine
from stanch.matching.sync import BankFollower
from stanch.store import Database

MAX_UPLOAD_BYTES = 64 * 2**20
"""Largest file accepted by ``/v1/hash`` and ``/v1/match`` (64 MiB; ``STANCH_MAX_UPLOAD_MB``)."""
MAX_JSON_BYTES = 32 * 2**20
"""Largest JSON body (a batch of 1,000 signals records fits easily)."""


@dataclass(frozen=True)
class ApiLimits:
    """Size limits of one request: every byte of a request is held in memory, so each is bounded."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_json_bytes: int = MAX_JSON_BYTES

    @classmethod
    def from_environment(cls) -> ApiLimits:
        megabytes = os.environ.get("STANCH_MAX_UPLOAD_MB")
        if megabytes is None:
            return cls()
        try:
            value = float(megabytes)
        except ValueError:
            raise ValueError(f"STANCH_MAX_UPLOAD_MB must be a number of MiB, got {megabytes!r}") from None
        if value <= 0:
            raise ValueError(f"STANCH_MAX_UPLOAD_MB must be positive, got {megabytes!r}")
        return cls(max_upload_bytes=int(value * 2**20))


@dataclass
class Services:
    """The database, the in-memory banks and their follower, the key checker, and the limits."""

    db: Database
    engine: MatchEngine
    follower: BankFollower
    keys: KeyChecker
    limits: ApiLimits


def services(request: Request) -> Services:
    """The process's ``Services``, from the request's app."""
    found: Services = request.app.state.stanch
    return found
