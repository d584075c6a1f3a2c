"""Safeguards against abuse of the desk: rate limits, duplicates, repeated and bulk requesters.

The US law has no penalty for false requests, so Stanch adds its own brakes, without turning anyone
away silently: a request over the rate limit is refused with when to try again (429); a duplicate, a
requester with many recent requests, or a request listing many locations is stored and *flagged* for
the reviewer, who also sees the requester's earlier requests (found by the keyed hash of the email).

Limits are counted in the database (``intake_events``), so they hold across server processes (on
PostgreSQL a transaction-scoped advisory lock per key makes the count and the insert one step); the
address and email are counted as keyed hashes (``stanch.desk.tokens.keyed_hash``), never in plain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stanch.store.desk_models import IntakeEvent, RequestLocation, TakedownRequest
from stanch.store.engine import is_postgresql

OPEN_STATES = ("received", "in_review", "need_info")


class RateLimited(Exception):
    """Too many submissions from one address or contact; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Safeguards:
    """The thresholds. ``STANCH_REQUESTS_PER_ADDRESS`` and ``STANCH_REQUESTS_PER_CONTACT`` set the two
    limits per ``window`` (24 h)."""

    per_address: int = 10
    per_contact: int = 5
    window: timedelta = timedelta(hours=24)
    repeated_after: int = 3
    """Earlier requests by the same contact within ``history_window`` that flag a requester as repeated."""
    history_window: timedelta = timedelta(days=30)
    bulk_locations: int = 20
    """More locations than this in one request flag it as bulk."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Safeguards:
        values: dict[str, int] = {}
        for name, field in (("STANCH_REQUESTS_PER_ADDRESS", "per_address"),
                            ("STANCH_REQUESTS_PER_CONTACT", "per_contact")):
            text = environ.get(name)
            if text is None:
                continue
            if not text.strip().isdigit() or int(text) < 1:
                raise ValueError(f"{name} must be a whole number of requests per 24 hours, got {text!r}")
            values[field] = int(text)
        return cls(per_address=values.get("per_address", cls.per_address),
                   per_contact=values.get("per_contact", cls.per_contact))


def check_rate(session: Session, keys: Mapping[str, str], now: datetime, limits: Safeguards) -> None:
    """Raise ``RateLimited`` if any of ``keys`` (``{"address": hash, "contact": hash}``) is over its limit."""
    allowed = {"address": limits.per_address, "contact": limits.per_contact}
    since = now - limits.window
    for kind, key in sorted(keys.items()):
        lock_key(session, key)
        count, oldest = session.execute(
            select(func.count(), func.min(IntakeEvent.at)).where(
                IntakeEvent.kind == kind, IntakeEvent.key_hash == key, IntakeEvent.at > since
            )
        ).one()
        if count >= allowed[kind]:
            retry = max(1, int((oldest + limits.window - now).total_seconds()) + 1)
            who = "this network address" if kind == "address" else "this email address"
            raise RateLimited(
                f"too many requests from {who} in the last 24 hours ({count}); please try again in "
                f"{_hours(retry)}, or contact the platform directly if this is urgent", retry
            )


def lock_key(session: Session, key: str) -> None:
    """On PostgreSQL, hold a lock on this key until the transaction ends, so that two submissions at
    once cannot both pass the count (SQLite's write lock already serialises them)."""
    if is_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(int(key[:15], 16))))


def note_submission(session: Session, keys: Mapping[str, str], now: datetime) -> None:
    """Count one accepted submission against each key."""
    session.add_all(IntakeEvent(kind=kind, key_hash=key, at=now) for kind, key in keys.items())


def _hours(seconds: int) -> str:
    if seconds < 3600:
        return f"{max(1, seconds // 60)} minutes"
    return f"{seconds // 3600} hours"


def flags_for(
    session: Session,
    contact_hash: str,
    locations: Iterable[str],
    hashes: Iterable[dict[str, object]],
    now: datetime,
    limits: Safeguards,
) -> tuple[list[str], int | None]:
    """The flags a new request gets, and the open request it duplicates (if any)."""
    locations, hashes = list(locations), list(hashes)
    flags: list[str] = []
    duplicate = find_duplicate(session, contact_hash, locations, hashes)
    if duplicate is not None:
        flags.append("duplicate")
    recent = session.scalar(
        select(func.count()).select_from(TakedownRequest).where(
            TakedownRequest.contact_hash == contact_hash,
            TakedownRequest.received_at > now - limits.history_window,
        )
    )
    if recent and recent >= limits.repeated_after:
        flags.append("repeated")
    if len(locations) > limits.bulk_locations:
        flags.append("bulk")
    return flags, duplicate


def find_duplicate(
    session: Session, contact_hash: str, locations: list[str], hashes: list[dict[str, object]]
) -> int | None:
    """The earliest open request by the same contact sharing a location or a hash with this one."""
    wanted_locations = set(locations)
    wanted_hashes = _hash_values(hashes)
    earlier = session.scalars(
        select(TakedownRequest).where(
            TakedownRequest.contact_hash == contact_hash, TakedownRequest.status.in_(OPEN_STATES)
        ).order_by(TakedownRequest.id)
    )
    for request in earlier:
        theirs = set(session.scalars(
            select(RequestLocation.location).where(RequestLocation.request_id == request.id)
        ))
        if wanted_locations & theirs or wanted_hashes & _hash_values(json.loads(request.hashes)):
            return request.id
    return None


def _hash_values(hashes: Iterable[dict[str, object]]) -> set[str]:
    return {str(h[name]) for h in hashes for name in ("pdq", "md5", "sha256") if h.get(name)}


def history(session: Session, request: TakedownRequest) -> list[TakedownRequest]:
    """The requester's other requests (same keyed contact hash), newest first."""
    return list(session.scalars(
        select(TakedownRequest).where(
            TakedownRequest.contact_hash == request.contact_hash, TakedownRequest.id != request.id
        ).order_by(TakedownRequest.received_at.desc())
    ))
