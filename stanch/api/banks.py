"""Banks and their entries over HTTP (scope ``bank``).

Every write is one transaction; once it commits, this process applies it to its in-memory index before
answering (so the entry is matchable when the client gets its 201), and every other server process
picks it up from the change feed within a second.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool

from stanch.api.auth import Caller, require
from stanch.api.errors import unprocessable
from stanch.api.schemas import BankChange, NewBank, NewEntry, json_body, validated
from stanch.api.uploads import read_json
from stanch.desk.audit import record
from stanch.matching.auto_remove import checked_rule, rule_text
from stanch.runtime import Runtime, Stanch
from stanch.signals import signals_from_record
from stanch.store import (
    Bank,
    BankExists,
    Entry,
    Provenance,
    active_entry_counts,
    add_entry,
    bank_record,
    create_bank,
    entry_from_hashes,
    entry_from_signals,
    get_bank,
    get_entry,
    list_banks,
    update_bank,
    withdraw_entry,
)
from stanch.store import NewEntry as StoredNewEntry
from stanch.store.entry_stats import disable_entry, enable_entry

MAX_ENTRY_ID = 2**31 - 1
EntryId = Annotated[int, Path(ge=1, le=MAX_ENTRY_ID, description="the entry's number (1 to 2**31-1)")]
"""Entry ids are a 32-bit INTEGER column on PostgreSQL: a larger number is a 422 here, not an
out-of-range error from the query (a 500)."""

router = APIRouter(prefix="/v1/banks", tags=["banks"])
BODY_MODELS = (NewBank, NewEntry, BankChange)
"""JSON bodies read by the handlers themselves (size-limited), described in OpenAPI by ``create_app``."""


@router.get("")
def banks_list(app: Runtime, request: Request, _: Caller = Depends(require("bank"))) -> dict[str, Any]:
    """Every bank with its settings and how many entries still count in it."""
    with app.db.read() as session:
        counts = active_entry_counts(session)
        return {"banks": [shown(b, counts.get(b.id, 0)) for b in list_banks(session)]}


def shown(bank: Bank, entries: int) -> dict[str, Any]:
    """A bank as the API answers it: the store's record with its auto-remove rule written out."""
    return {**bank_record(bank, entries), "auto_remove": rule_text(bank.auto_remove)}


@router.post("", status_code=201, openapi_extra=json_body(NewBank))
async def banks_create(
    app: Runtime, request: Request, caller: Caller = Depends(require("bank"))
) -> dict[str, Any]:
    """Create a bank: ``{"name", "threshold": 31, "trust": "block"|"review",
    "kind": "match"|"allow"|"minor", "auto_remove": "md5,sha256,pdq<=10"}``."""
    body = validated(NewBank, await read_json(request, app.limits.max_json_bytes))
    return await run_in_threadpool(_create, app, body, caller)


def _create(app: Stanch, body: NewBank, caller: Caller) -> dict[str, Any]:
    try:
        with app.db.write() as session:
            rule = checked_rule(body.auto_remove) if body.auto_remove is not None else None
            bank = create_bank(session, body.name, threshold=body.threshold, trust=body.trust, kind=body.kind,
                               auto_remove=rule)
            record(session, caller.actor, "bank.create", ("bank", bank.name),
                   {"threshold": bank.threshold, "trust": bank.trust, "kind": bank.kind,
                    "auto_remove": rule_text(bank.auto_remove)})
            created = shown(bank, 0)
    except BankExists:
        raise
    except ValueError as error:  # a threshold, trust or kind out of range
        raise unprocessable(error) from None
    app.follower.poll_after_commit()
    return created


@router.get("/{bank}")
def banks_get(app: Runtime, bank: str, _: Caller = Depends(require("bank"))) -> dict[str, Any]:
    """One bank's settings and its count of entries that still count."""
    with app.db.read() as session:
        found = _get_bank(session, bank)
        return shown(found, active_entry_counts(session).get(found.id, 0))


@router.patch("/{bank}", openapi_extra=json_body(BankChange))
async def banks_change(
    app: Runtime, bank: str, request: Request, caller: Caller = Depends(require("bank"))
) -> dict[str, Any]:
    """Change a bank's settings: ``{"threshold", "trust", "auto_remove"}``, any of them (audited)."""
    body = validated(BankChange, await read_json(request, app.limits.max_json_bytes))
    return await run_in_threadpool(_change, app, bank, body, caller)


def _change(app: Stanch, name: str, body: BankChange, caller: Caller) -> dict[str, Any]:
    try:
        with app.db.write() as session:
            rule = checked_rule(body.auto_remove) if body.auto_remove is not None else None
            bank = update_bank(session, name, threshold=body.threshold, trust=body.trust, auto_remove=rule)
            record(session, caller.actor, "bank.update", ("bank", bank.name),
                   {"threshold": bank.threshold, "trust": bank.trust,
                    "auto_remove": rule_text(bank.auto_remove)})
            changed = shown(bank, active_entry_counts(session).get(bank.id, 0))
    except ValueError as error:
        raise unprocessable(error) from None
    app.follower.poll_after_commit()
    return changed


@router.post("/{bank}/entries", status_code=201, openapi_extra=json_body(NewEntry))
async def entries_add(
    app: Runtime, bank: str, request: Request, _: Caller = Depends(require("bank"))
) -> dict[str, Any]:
    """Bank a hash (``{"pdq": hex}``, with ``md5``/``sha256``/``quality`` if known) or full signals
    (``{"signals": {...}}``), with an optional ``source``. Matchable as soon as this answers."""
    entry = _new_entry(validated(NewEntry, await read_json(request, app.limits.max_json_bytes)))
    return await run_in_threadpool(_add, app, bank, entry)


@router.get("/{bank}/entries/{entry_id}")
def entries_get(
    app: Runtime,
    bank: str, entry_id: EntryId, request: Request, _: Caller = Depends(require("bank"))
) -> dict[str, Any]:
    """One entry's provenance and state (its hashes are in ``stanch bank export``)."""
    with app.db.read() as session:
        return _entry(_get_entry(session, _get_bank(session, bank), entry_id), bank)


@router.delete("/{bank}/entries/{entry_id}")
def entries_withdraw(
    app: Runtime,
    bank: str,
    entry_id: EntryId,
    request: Request,
    caller: Caller = Depends(require("bank")),
) -> dict[str, Any]:
    """Withdraw an entry: it stops matching at once here, within a second everywhere. Idempotent; the
    entry stays on record with when and why (``?reason=`` sets why)."""
    reason = request.query_params.get("reason", "withdrawn through the API")[:200]
    with app.db.write() as session:
        entry = withdraw_entry(session, _get_bank(session, bank), entry_id, reason=reason)
        record(session, caller.actor, "entry.withdraw", ("entry", entry.id), {"bank": bank, "reason": reason})
        answer = _entry(entry, bank)
    app.follower.poll_after_commit()
    return answer


@router.post("/{bank}/entries/{entry_id}/disable")
def entries_disable(
    app: Runtime, bank: str, entry_id: EntryId, request: Request, caller: Caller = Depends(require("bank")),
) -> dict[str, Any]:
    """Stop an entry matching without withdrawing it (``?reason=`` says why); ``/enable`` undoes it.
    At once here, within a second everywhere. Idempotent; audited."""
    reason = request.query_params.get("reason", "disabled through the API")[:200]
    with app.db.write() as session:
        entry = disable_entry(session, _get_bank(session, bank), entry_id, reason=reason, now=app.now())
        record(session, caller.actor, "entry.disable", ("entry", entry.id), {"bank": bank, "reason": reason})
        answer = _entry(entry, bank)
    app.follower.poll_after_commit()
    return answer


@router.post("/{bank}/entries/{entry_id}/enable")
def entries_enable(
    app: Runtime, bank: str, entry_id: EntryId, caller: Caller = Depends(require("bank")),
) -> dict[str, Any]:
    """Let a disabled entry match again. Idempotent; audited."""
    with app.db.write() as session:
        entry = enable_entry(session, _get_bank(session, bank), entry_id)
        record(session, caller.actor, "entry.enable", ("entry", entry.id), {"bank": bank})
        answer = _entry(entry, bank)
    app.follower.poll_after_commit()
    return answer


def _add(app: Stanch, bank: str, entry: StoredNewEntry) -> dict[str, Any]:
    with app.db.write() as session:
        found = _get_bank(session, bank)
        entry_id = add_entry(session, found, entry)
    app.follower.poll_after_commit()
    return {"id": entry_id, "bank": bank, "kind": entry.kind, "source": entry.provenance.source}


def _new_entry(body: NewEntry) -> StoredNewEntry:
    provenance = Provenance(source=body.source)
    if body.signals is None:
        return entry_from_hashes(
            pdq=body.pdq, quality=body.quality, md5=body.md5, sha256=body.sha256, provenance=provenance
        )
    try:
        return entry_from_signals(signals_from_record(body.signals), provenance)
    except ValueError as error:
        raise unprocessable(error, "body.signals: ") from None


def _get_bank(session: Any, name: str) -> Bank:
    return get_bank(session, name)  # UnknownBank: 404


def _get_entry(session: Any, bank: Bank, entry_id: int) -> Entry:
    return get_entry(session, bank, entry_id)  # UnknownEntry: 404


def _entry(entry: Entry, bank: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "bank": bank,
        "kind": entry.kind,
        "source": entry.source,
        "trust": entry.trust,
        "created": entry.created.isoformat(),
        "expires": entry.expires.isoformat() if entry.expires else None,
        "withdrawn": entry.withdrawn_at is not None,
        "withdrawn_at": entry.withdrawn_at.isoformat() if entry.withdrawn_at else None,
        "withdrawn_reason": entry.withdrawn_reason,
        "disabled_at": entry.disabled_at.isoformat() if entry.disabled_at else None,
        "disabled_reason": entry.disabled_reason,
    }
