"""Feedback to exchange sources: a reviewer's verdict on a match sent back to where the hash came from.

``queue_source_feedback(session, entry_ids, verdict, now)`` is the one entry point (the seam other
parts of Stanch call where a reviewer confirms or rejects a match): for each entry that came from a
source with feedback on, it adds an outbox message of kind ``exchange`` in the caller's transaction,
so feedback exists only if the decision commits, and is retried by the dispatcher like any message.
Entries from anywhere else are ignored. Queuing the same verdict on the same hash twice adds nothing
(the first message, pending or sent, stands).

``queue_hash_submission`` queues the PDQ hashes of a removed case (whose requester consented) for
every StopNCII source with ``push`` on (``SubmitHashes``, function key ``submit_function_key``).

``stanch.desk.exchange_feedback.ExchangeFeedbackSender`` delivers them (it sits above this layer
because it is one of the dispatcher's senders), with the credentials read from the source's variable
or file at sending time, through python-threatexchange's clients:

* StopNCII: ``SubmitFeedback``, ``Blocked`` for a confirmed match, ``NotBlocked`` for a rejected one
  (the credentials are then a JSON object with a ``feedback_function_key``);
* ThreatExchange: a reaction on each descriptor of the indicator that another app owns,
  ``SAW_THIS_TOO`` for a confirmed match and ``DISAGREE_WITH_TAGS`` for a rejected one (what HMA 0.x
  wrote back);
* NCMEC: an upvote or a downvote on each fingerprint of the entry that Stanch holds (PDQ, MD5).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stanch.store.exchange_models import ExchangeSource
from stanch.store.models import Entry
from stanch.store.outbox_models import OutboxMessage

VERDICTS = ("confirmed", "rejected")
"""A reviewer's verdicts on a match, sent as StopNCII's ``Blocked`` and ``NotBlocked``."""
REACTIONS = {"confirmed": "SAW_THIS_TOO", "rejected": "DISAGREE_WITH_TAGS"}
"""ThreatExchange reactions, as HMA 0.x wrote them back (its SawThisToo and FalsePositive writebacks)."""
VOTES = {"confirmed": "upvote", "rejected": "downvote"}
"""NCMEC's votes: the values of python-threatexchange's ``FeedbackType`` (a test checks they agree)."""
FEEDBACK_TYPE = "stopncii.feedback"
SUBMIT_TYPE = "stopncii.submit"
REACTION_TYPE = "threatexchange.reaction"
VOTE_TYPE = "ncmec.feedback"
LIST_PREFIX = "exchange:"


def queue_source_feedback(session: Session, entry_ids: Iterable[int], verdict: str, now: datetime) -> int:
    """Queue feedback (``verdict`` ``confirmed`` or ``rejected``) for those of ``entry_ids`` that came
    from an exchange source accepting feedback; returns how many messages were added."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    rows = session.execute(
        select(Entry.external_list, Entry.external_id, Entry.pdq, Entry.md5)
        .where(Entry.id.in_(ids), Entry.external_list.like(f"{LIST_PREFIX}%"), Entry.external_id.is_not(None))
    ).all()
    names = {str(row.external_list)[len(LIST_PREFIX):] for row in rows}
    sources = {
        s.name: s for s in session.scalars(select(ExchangeSource).where(ExchangeSource.name.in_(names)))
        if s.feedback
    }
    added = 0
    for row in sorted(set(rows), key=lambda r: (str(r.external_list), str(r.external_id))):
        source = sources.get(str(row.external_list)[len(LIST_PREFIX):])
        message = _feedback(source, str(row.external_id), row.pdq, row.md5, verdict) if source else None
        if source is None or message is None:
            continue
        kind, data = message
        payload = json.dumps({"source": source.name, **data}, sort_keys=True, separators=(",", ":"))
        if _already_queued(session, source.name, payload):
            continue
        session.add(OutboxMessage(uuid=str(uuid.uuid4()), kind="exchange", type=kind, recipient=source.name,
                                  payload=payload, status="pending", attempts=0, created_at=now,
                                  next_attempt_at=now))
        added += 1
    session.flush()
    return added


def _feedback(source: ExchangeSource, external_id: str, pdq: bytes | None, md5: str | None,
              verdict: str) -> tuple[str, dict[str, Any]] | None:
    """The message type and body telling ``source`` the verdict on one of its entries (None when
    there is nothing to say: an NCMEC entry with no fingerprint Stanch holds)."""
    if source.type == "threatexchange":
        return REACTION_TYPE, {"indicator": external_id, "reaction": REACTIONS[verdict]}
    if source.type == "ncmec":
        esp, _, entry = external_id.partition(":")
        prints = [name for name, value in (("PDQ", pdq), ("MD5", md5)) if value is not None]
        if not prints:
            return None
        return VOTE_TYPE, {"esp": esp, "entry": entry, "fingerprints": prints, "vote": VOTES[verdict]}
    signal_type, _, value = external_id.partition(":")
    return FEEDBACK_TYPE, {"signalType": signal_type, "hashValue": value,
                           "feedbackValue": _feedback_value(verdict)}


def queue_hash_submission(session: Session, pdqs: Iterable[str], case: str, now: datetime) -> int:
    """Queue the submission of a removed case's PDQ hashes (hex) to every StopNCII source with ``push``
    on; the caller checks the requester's consent first. ``case`` only keeps two messages for the same
    case apart (it is not sent). Returns how many messages were added."""
    hashes = sorted({h.lower() for h in pdqs})
    if not hashes:
        return 0
    added = 0
    for source in session.scalars(select(ExchangeSource).where(ExchangeSource.push.is_(True))
                                  .order_by(ExchangeSource.name)):
        if source.type != "stopncii":
            continue
        data = {"source": source.name, "case": case, "signalType": "ImagePDQ", "hashes": hashes}
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
        if _already_queued(session, source.name, payload):
            continue
        session.add(OutboxMessage(uuid=str(uuid.uuid4()), kind="exchange", type=SUBMIT_TYPE,
                                  recipient=source.name, payload=payload, status="pending", attempts=0,
                                  created_at=now, next_attempt_at=now))
        added += 1
    session.flush()
    return added


def _already_queued(session: Session, name: str, payload: str) -> bool:
    return session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.kind == "exchange", OutboxMessage.recipient == name,
            OutboxMessage.payload == payload, OutboxMessage.status.in_(("pending", "sent")),
        ).limit(1)
    ) is not None  # fmt: skip


def _feedback_value(verdict: str) -> str:
    """StopNCII's feedback value for ``verdict``. python-threatexchange is imported here, not by the
    module: it loads faiss (about 0.4 s), which the desk's decisions and a sweep importing this module
    do not need unless feedback is queued."""
    from threatexchange.exchanges.clients.stopncii.api import StopNCIICSPFeedbackValue

    value = {"confirmed": StopNCIICSPFeedbackValue.Blocked, "rejected": StopNCIICSPFeedbackValue.NotBlocked}
    return str(value[verdict].value)
