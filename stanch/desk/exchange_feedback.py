"""A case removed by a reviewer confirms the exchanged hashes it carried (feedback to their sources),
and, if its requester consented, its PDQ hashes go to the sources set to receive them (``push``).

When a reviewer decides ``remove``, the case's hashes and its items' (located items and copies) are
confirmed NCII. Entries that came from an exchange source with exactly one of those hashes (the same
PDQ, MD5 or SHA-256) get a ``confirmed`` verdict through ``queue_source_feedback``, in the decision's
transaction. Only identical hashes count: a near PDQ match found at upload time is not recorded on the
case (``RequestItem`` keeps how a copy matched the case, not which bank entry it matched), so it is not
claimed here; per-copy decisions (``desk-items``) call ``queue_source_feedback`` with the entries
they know.
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stanch.exchange.live.feedback import LIST_PREFIX, queue_hash_submission, queue_source_feedback
from stanch.store.desk_models import RequestItem, TakedownRequest
from stanch.store.models import Entry


def after_removal(session: Session, request: TakedownRequest, now: datetime) -> None:
    """What a removal sends to exchange sources: confirmations, and the case's PDQ hashes to sources
    with ``push`` on when (and only when) the requester consented to sharing."""
    pdqs, md5s, sha256s = _case_hashes(session, request)
    confirm_exchanged_hashes(session, pdqs, md5s, sha256s, now)
    if request.share_consent:
        queue_hash_submission(session, [p.hex() for p in pdqs], request.public_id, now)


def confirm_exchanged_hashes(session: Session, pdqs: set[bytes], md5s: set[str], sha256s: set[str],
                             now: datetime) -> int:
    """Queue ``confirmed`` feedback for exchanged entries identical to these hashes; returns how many
    messages were queued."""
    if not (pdqs or md5s or sha256s):
        return 0
    ids = session.scalars(select(Entry.id).where(
        Entry.external_list.like(f"{LIST_PREFIX}%"), Entry.withdrawn_at.is_(None),
        or_(Entry.pdq.in_(pdqs), Entry.md5.in_(md5s), Entry.sha256.in_(sha256s)),
    ))  # fmt: skip
    return queue_source_feedback(session, list(ids), "confirmed", now)


def _case_hashes(session: Session, request: TakedownRequest) -> tuple[set[bytes], set[str], set[str]]:
    """The PDQ, MD5 and SHA-256 values of a case's own hashes and of its items'."""
    records: list[Any] = list(json.loads(request.hashes))
    records += [json.loads(h) for h in session.scalars(select(RequestItem.hashes)
                                                       .where(RequestItem.request_id == request.id))]
    pdqs: set[bytes] = set()
    md5s: set[str] = set()
    sha256s: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("pdq"), str) and len(record["pdq"]) == 64:
            with suppress(ValueError):  # intake checked it; an unreadable hash simply confirms nothing
                pdqs.add(bytes.fromhex(record["pdq"]))
        if isinstance(record.get("md5"), str):
            md5s.add(record["md5"].lower())
        if isinstance(record.get("sha256"), str):
            sha256s.add(record["sha256"].lower())
    return pdqs, md5s, sha256s
