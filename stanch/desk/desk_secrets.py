"""The desk's own random keys, kept in the ``desk_secrets`` table: made once, on first use, by whichever
process needs one first, and read back by every process after that."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stanch.store.desk_models import DeskSecret

_KEY_BYTES = 32


def stored_secret(session: Session, name: str) -> bytes | None:
    """The secret called ``name``, or None when none has been made yet."""
    row = session.get(DeskSecret, name)
    return None if row is None else row.value


def stored_or_new_secret(session: Session, name: str) -> bytes:
    """The secret called ``name``, made (32 random bytes) and stored if there is none yet."""
    stored = stored_secret(session, name)
    if stored is not None:
        return stored
    try:  # two processes may create it at once: the second one reads the first one's key
        with session.begin_nested():
            session.add(DeskSecret(name=name, value=secrets.token_bytes(_KEY_BYTES)))
    except IntegrityError:
        pass
    created = session.get(DeskSecret, name, populate_existing=True)
    assert created is not None
    return created.value
