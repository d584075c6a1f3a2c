"""Configured exchange sources: adding, listing, removing, their credentials and their status.

A source feeds one bank. Its credentials are never stored: the source names an environment variable
or a file, read when a fetch starts (so a rotated key takes effect at the next fetch), and neither
the status, the API nor a log line ever shows them.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stanch.exchange.live.errors import CredentialsError
from stanch.store import Bank, get_bank, update_bank
from stanch.store.exchange_models import SOURCE_TYPES, ExchangeSource, QuarantinedItem
from stanch.store.models import TRUSTS, utcnow

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
MIN_SCHEDULE_SECONDS = 60
MAX_CREDENTIALS_BYTES = 64 * 1024


class UnknownSource(LookupError):
    """No exchange source has that name."""


class SourceExists(ValueError):
    """An exchange source with that name already exists."""


def add_source(
    session: Session,
    name: str,
    *,
    type: str,
    bank: str,
    credentials_env: str | None = None,
    credentials_file: str | None = None,
    base_url: str | None = None,
    trust: str | None = None,
    threshold: int | None = None,
    schedule_seconds: int = 3600,
    feedback: bool = False,
    push: bool = False,
    privacy_group: int | None = None,
) -> ExchangeSource:
    """Configure a source feeding ``bank``. ``threshold``, when given, becomes the bank's threshold
    (matching has one threshold per bank); ``trust`` (default the bank's) is given to every entry the
    source brings. ``feedback`` sends reviewers' verdicts on its entries back to it; ``push`` submits
    the hashes of removed cases whose requesters consented. ``privacy_group`` is the ThreatExchange
    privacy group a ``threatexchange`` source reads (required for that type, refused for others)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"source name {name!r} is not allowed: use letters, digits, '_', '.', '-'")
    if type not in SOURCE_TYPES:
        raise ValueError(f"source type must be one of {', '.join(SOURCE_TYPES)}, not {type!r}")
    if (credentials_env is None) == (credentials_file is None):
        raise ValueError("give exactly one of credentials_env (a variable's name) or credentials_file")
    if credentials_env is not None and not _ENV_NAME.fullmatch(credentials_env):
        raise ValueError(f"{credentials_env!r} is not an environment variable's name")
    if (type == "threatexchange") != (privacy_group is not None):
        raise ValueError("a threatexchange source needs a privacy group (its id), and only it takes one")
    if privacy_group is not None and privacy_group <= 0:
        raise ValueError("a ThreatExchange privacy group id is a positive number")
    if push and type != "stopncii":
        raise ValueError("only StopNCII sources accept submitted hashes (push)")
    if trust is not None and trust not in TRUSTS:
        raise ValueError(f"trust must be one of {', '.join(TRUSTS)}, not {trust!r}")
    if schedule_seconds < MIN_SCHEDULE_SECONDS:
        raise ValueError(f"a schedule is at least {MIN_SCHEDULE_SECONDS} seconds between fetches")
    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise ValueError("a base URL starts with https:// (or http://)")
    target = get_bank(session, bank)
    if session.scalar(select(ExchangeSource.id).where(ExchangeSource.name == name)) is not None:
        raise SourceExists(f"an exchange source named {name!r} already exists")
    if threshold is not None:
        update_bank(session, bank, threshold=threshold)
    source = ExchangeSource(
        name=name, type=type, bank_id=target.id, credentials_env=credentials_env,
        credentials_file=str(Path(credentials_file).expanduser().absolute()) if credentials_file else None,
        base_url=base_url.rstrip("/") if base_url else None, privacy_group=privacy_group,
        trust=trust or target.trust,
        schedule_seconds=schedule_seconds, enabled=True, feedback=feedback, push=push, added=0, withdrawn=0,
        quarantined=0, failures=0, created=utcnow(),
    )  # fmt: skip
    session.add(source)
    session.flush()
    return source


def get_source(session: Session, name: str) -> ExchangeSource:
    """The source called ``name``; ``UnknownSource`` (with what to do) otherwise."""
    source = session.scalar(select(ExchangeSource).where(ExchangeSource.name == name))
    if source is None:
        raise UnknownSource(f"no exchange source named {name!r}: see stanch exchange list")
    return source


def list_sources(session: Session) -> list[ExchangeSource]:
    """Every source, by name."""
    return list(session.scalars(select(ExchangeSource).order_by(ExchangeSource.name)))


def remove_source(session: Session, name: str) -> None:
    """Forget a source and its quarantine; the entries it brought stay in the bank (withdraw them with
    the bank commands if they should go)."""
    source = get_source(session, name)
    session.execute(delete(QuarantinedItem).where(QuarantinedItem.source_id == source.id))
    session.delete(source)
    session.flush()


def read_credentials(source: ExchangeSource, environ: dict[str, str] | None = None) -> str:
    """The source's credentials, from its variable or file. Errors say where Stanch looked, never what
    it found."""
    environ = dict(os.environ) if environ is None else environ
    if source.credentials_env is not None:
        value = environ.get(source.credentials_env, "").strip()
        if not value:
            raise CredentialsError(f"the environment variable {source.credentials_env} is not set or empty")
        return value
    path = Path(source.credentials_file or "")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CREDENTIALS_BYTES + 1)
    except OSError as error:
        raise CredentialsError(f"cannot read the credentials file {path}: {error.strerror}") from None
    if len(data) > MAX_CREDENTIALS_BYTES:
        raise CredentialsError(f"the credentials file {path} is larger than {MAX_CREDENTIALS_BYTES} bytes")
    value = data.decode("utf-8", "replace").strip()
    if not value:
        raise CredentialsError(f"the credentials file {path} is empty")
    return value


def source_record(session: Session, source: ExchangeSource, bank: Bank | None = None) -> dict[str, Any]:
    """A source's settings and status, JSON-ready, as the CLI, the API and the desk show it (no secret:
    where the credentials come from, not what they are)."""
    bank = bank or session.get(Bank, source.bank_id)
    return {
        "name": source.name,
        "type": source.type,
        "bank": bank.name if bank else None,
        "credentials": {"env": source.credentials_env} if source.credentials_env
        else {"file": source.credentials_file},
        "base_url": source.base_url,
        "privacy_group": source.privacy_group,
        "trust": source.trust,
        "threshold": bank.threshold if bank else None,
        "schedule_seconds": source.schedule_seconds,
        "enabled": source.enabled,
        "feedback": source.feedback,
        "push": source.push,
        "checkpoint": json.loads(source.checkpoint) if source.checkpoint else None,
        "counts": {"added": source.added, "withdrawn": source.withdrawn, "quarantined": source.quarantined},
        "failures": source.failures,
        "last_fetch_at": _iso(source.last_fetch_at),
        "last_success_at": _iso(source.last_success_at),
        "last_error": source.last_error,
        "next_fetch_at": _iso(source.next_fetch_at),
        "fetching": source.lease_until is not None and source.lease_until > utcnow(),
    }


def quarantine_records(session: Session, source: ExchangeSource, limit: int = 50) -> list[dict[str, Any]]:
    """The newest quarantined records and pages of a source, with where and why."""
    rows = session.scalars(
        select(QuarantinedItem)
        .where(QuarantinedItem.source_id == source.id)
        .order_by(QuarantinedItem.id.desc())
        .limit(limit)
    )
    return [
        {"id": q.id, "kind": q.kind, "location": q.location, "reason": q.reason, "body": q.body,
         "created": q.created.isoformat()}
        for q in rows
    ]  # fmt: skip


def quarantine_count(session: Session, source: ExchangeSource) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(QuarantinedItem).where(QuarantinedItem.source_id == source.id)
        )
        or 0
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
