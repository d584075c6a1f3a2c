"""The audit log: who viewed, unblurred, decided, exported or changed what, in a hash chain.

``record`` appends one event inside the caller's transaction, so an event exists exactly when the
thing it describes was committed. Each event's hash is SHA-256 over a canonical JSON serialisation
(sorted keys, no spaces, UTF-8) of its fields and the previous event's hash; ``verify`` recomputes the
chain and names the first event that does not fit, whether it was altered, removed or inserted.

Concurrency: two transactions appending at once must not both build on the same tail (a fork). On
PostgreSQL ``record`` takes a transaction-scoped advisory lock before reading the tail, so appenders
queue until the holder commits; call ``record`` late in long transactions. On SQLite writers are
serialised by the database's write lock (Stanch's write sessions begin IMMEDIATE). Either way ``seq``
is the primary key, so a fork could only ever fail, never be stored.

What the chain does not prove: someone with write access can rebuild the whole chain after editing
it, or append well-formed events. Record the head (``stanch audit verify`` prints it) somewhere
outside the database now and then; a later verify that no longer reaches it shows the history was
rewritten.

Actors are strings of the form ``user:<name>``, ``key:<prefix>``, ``cli:<os user>`` or ``system``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.store.audit_models import GENESIS_HASH, AuditEvent
from stanch.store.engine import is_postgresql

SYSTEM = "system"
_AUDIT_LOCK = 0x5374616E6368 + 2
"""PostgreSQL advisory lock key held from reading the chain's tail to commit."""
_ACTOR = re.compile(r"^(system|(user|key|cli):[^\s:][^\s]{0,190})$")
_ACTION = re.compile(r"^[a-z][a-z0-9_.]{0,59}$")
_VERIFY_BATCH = 1000
_SUBJECT_TYPE_CHARS = 60
_HASHED_COLUMNS = ("seq", "at", "actor", "action", "subject_type", "subject_id", "prev_hash")
"""Columns hashed as stored; ``details`` is hashed as the JSON value it holds."""
_SUBJECT_ID_CHARS = 200


@dataclass(frozen=True)
class Subject:
    """What an event is about: a request, an item, a user, a bank... (``type``, ``id``)."""

    type: str
    id: str


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify``: intact, or the first event that breaks the chain and why."""

    ok: bool
    events: int
    """Events checked (up to the first broken one)."""
    head: str | None
    """Hash of the last good event (None for an empty log)."""
    bad_seq: int | None = None
    problem: str | None = None


def canonical_json(value: Any) -> str:
    """The one serialisation hashed and stored: sorted keys, no spaces, non-ASCII kept as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str | None,
    subject_id: str | None,
    details: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an event's fields and its predecessor's hash."""
    document = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    subject: Subject | tuple[str, object] | None = None,
    details: Mapping[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> AuditEvent:
    """Append an event in ``session``'s transaction; it is kept only if that transaction commits.

    ``details`` must be JSON (no NaN); it is stored canonicalised. Raises ``ValueError`` for an actor
    or action that does not follow the documented forms.
    """
    if not _ACTOR.match(actor):
        raise ValueError(f"audit actor {actor!r} must be 'system' or 'user:…', 'key:…', 'cli:…'")
    if not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} must be lower-case letters, digits, '_' or '.'")
    subject_type, subject_id = _subject_fields(subject)
    try:
        details_json = canonical_json(dict(details or {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"audit details must be JSON (strings, numbers, lists, objects): {error}") from None
    _lock_tail(session)
    tail = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (tail.seq + 1, tail.hash) if tail else (1, GENESIS_HASH)
    fields: dict[str, Any] = {
        "seq": seq, "at": clock(), "actor": actor, "action": action,
        "subject_type": subject_type, "subject_id": subject_id, "prev_hash": prev_hash,
    }
    event = AuditEvent(**fields, details=details_json,
                       hash=event_hash(**fields, details=json.loads(details_json)))
    session.add(event)
    session.flush()
    return event


def _subject_fields(subject: Subject | tuple[str, object] | None) -> tuple[str | None, str | None]:
    if subject is None:
        return None, None
    kind, ident = (subject.type, subject.id) if isinstance(subject, Subject) else subject
    kind, ident = str(kind), str(ident)
    if not kind or len(kind) > _SUBJECT_TYPE_CHARS or len(ident) > _SUBJECT_ID_CHARS:
        raise ValueError(f"an audit subject is a type such as 'request' (at most {_SUBJECT_TYPE_CHARS} "
                         f"characters) and an id of at most {_SUBJECT_ID_CHARS}")
    return kind, ident


def _lock_tail(session: Session) -> None:
    """Serialise appenders until this transaction ends (SQLite's write lock already does)."""
    if is_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(_AUDIT_LOCK)))


def verify(session: Session, *, anchor: str | None = None) -> VerifyResult:
    """Walk the chain from the first event; stop at the first one that does not fit.

    Reports a gap in ``seq`` (an event removed, or one inserted out of sequence), a ``prev_hash``
    that is not the previous event's hash, and a ``hash`` that does not match the event's contents.
    ``anchor``, a head hash recorded earlier outside the database, must be one of the chain's hashes:
    if it is not, the chain was rebuilt or emptied since.
    """
    expected_seq, prev_hash, count, head, anchored = 1, GENESIS_HASH, 0, None, False
    for event in _iter_events(session):
        problem = _problem(event, expected_seq, prev_hash)
        if problem:
            return VerifyResult(False, count, head, event.seq, problem)
        expected_seq, prev_hash, count, head = event.seq + 1, event.hash, count + 1, event.hash
        anchored = anchored or event.hash == anchor
    if anchor is not None and not anchored:
        return VerifyResult(False, count, head, None, f"no event has the recorded hash {anchor}: the log "
                                                      "was rebuilt or emptied since it was recorded")
    return VerifyResult(True, count, head)


def _problem(event: Row[Any], expected_seq: int, prev_hash: str) -> str | None:
    if event.seq != expected_seq:
        return (f"expected event {expected_seq} next but found {event.seq}: "
                "events were removed or inserted")
    if event.prev_hash != prev_hash:
        return "its prev_hash is not the hash of the event before it: the chain was cut or rebuilt"
    try:
        details = json.loads(event.details)
    except ValueError:
        return "its details are not valid JSON: the row was altered"
    fields: dict[str, Any] = {name: getattr(event, name) for name in _HASHED_COLUMNS}
    if event_hash(**fields, details=details) != event.hash:
        return "its contents do not match its hash: the row was altered"
    return None


def _iter_events(session: Session) -> Iterator[Row[Any]]:
    """Every event's columns in ``seq`` order, a batch at a time (the log grows without bound)."""
    query = select(*AuditEvent.__table__.columns).order_by(AuditEvent.seq).limit(_VERIFY_BATCH)
    batch = session.execute(query).all()
    while True:
        yield from batch
        if len(batch) < _VERIFY_BATCH:
            return
        batch = session.execute(query.where(AuditEvent.seq > batch[-1].seq)).all()


def events(
    session: Session,
    *,
    since: datetime | None = None,
    subject: Subject | tuple[str, object] | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """Events oldest first, optionally from ``since`` on and about one ``subject``.

    Reading the log is itself an event: callers showing or exporting it record ``audit.view`` or
    ``audit.export`` (``stanch audit show`` does).
    """
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if subject is not None:
        subject_type, subject_id = _subject_fields(subject)
        query = query.where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def event_record(event: AuditEvent) -> dict[str, Any]:
    """An event as a JSON-ready dict (``stanch audit show`` prints one per line)."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "details": json.loads(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
