"""What names this database for files kept outside it (index snapshots), and the feed row they rest on.

A file written from one database must never be read as another's: a database dropped and refilled
with a different list has the same feed numbers and the same entry ids, but other hashes. So each
database gets a random instance id on first use, kept in ``desk_secrets`` (the table of values made
once and shared by every process), and files name it through a one-way digest, never the id itself.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stanch.store.desk_models import DeskSecret
from stanch.store.models import BankChange

_NAME = "instance-id"


def database_identity(session: Session) -> str:
    """A stable name of this database (32 hex digits), made and stored on first use; commits the
    caller's session when it has to create it (call it in a write session of its own)."""
    row = session.get(DeskSecret, _NAME)
    if row is None:
        try:  # two processes may create it at once: the second reads the first one's
            with session.begin_nested():
                session.add(DeskSecret(name=_NAME, value=secrets.token_bytes(32)))
        except IntegrityError:
            pass
        row = session.get(DeskSecret, _NAME, populate_existing=True)
        assert row is not None
    return hashlib.sha256(b"stanch index snapshot\0" + row.value).hexdigest()[:32]


def feed_row(session: Session, seq: int) -> tuple[int, int | None, str] | None:
    """The change feed's row ``seq`` as ``(bank_id, entry_id, op)``, or None when it is not there
    (never written, or pruned): a snapshot names the row it is current with, and is trusted only while
    that same row is still in the feed."""
    row = session.execute(
        select(BankChange.bank_id, BankChange.entry_id, BankChange.op).where(BankChange.seq == seq)
    ).first()
    return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]), str(row[2]))
