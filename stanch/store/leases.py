"""Named leases: one process of several on the same database runs a periodic job.

The same conditional UPDATE as an exchange source's fetch lease (``stanch.exchange.live.fetcher``),
atomic on SQLite and PostgreSQL: a process takes the lease only when nobody holds an unexpired one and
the job is due (``last_done`` older than its period), so however many ``stanch serve`` processes run,
one does the job each period. A process that dies holding it leaves it to expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stanch.store.models import Lease


def take_lease(session: Session, name: str, owner: str, now: datetime, *, hold: timedelta,
               every: timedelta) -> bool:
    """Take lease ``name`` for ``hold`` if nobody holds it and its job last finished ``every`` ago or
    more (or never); True when ``owner`` has it."""
    if session.get(Lease, name) is None:
        try:
            with session.begin_nested():
                session.add(Lease(name=name))
        except IntegrityError:
            pass  # another process created it meanwhile: the update below decides
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.until.is_(None), Lease.until <= now),
               or_(Lease.last_done.is_(None), Lease.last_done <= now - every))
        .values(owner=owner, until=now + hold)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_lease(session: Session, name: str, owner: str, now: datetime) -> bool:
    """Record the job done at ``now`` and release the lease, if ``owner`` still holds it."""
    result = session.execute(
        update(Lease).where(Lease.name == name, Lease.owner == owner)
        .values(owner=None, until=None, last_done=now).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def last_done(session: Session, name: str) -> datetime | None:
    """When lease ``name``'s job last finished (None: never)."""
    return session.scalar(select(Lease.last_done).where(Lease.name == name))
