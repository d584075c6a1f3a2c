"""Adding and withdrawing entries in bulk, inside the caller's transaction.

Every path that changes a bank's entries goes through ``EntryWriter``: one API call adding one hash,
``stanch bank add`` with a folder, an import of a million lines. It buffers entries and writes them a
batch at a time with ``copy_rows``, so an import streams instead of holding the file in memory, and
writes the change feed last (see ``stanch.store.changes``). Nothing is committed here: the caller's
transaction decides, so a bad line anywhere leaves the bank as it was.

Entries that carry a partner's name (``external_list``, ``external_id``) are not duplicated: adding
one whose name is already active in the bank is a no-op, and ``withdraw_external`` withdraws every
active entry of that name, which is how StopNCII's withdrawn and deleted records are honoured.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, text
from sqlalchemy.orm import Session

from stanch.clock import utcnow
from stanch.store.bulk import allocate_ids, copy_rows, db_time
from stanch.store.changes import record_changes
from stanch.store.entries import NewEntry
from stanch.store.models import FRAME_ORIGINAL, TRUSTS, Bank, Entry, UtcDateTime

_ENTRY_COLUMNS = (
    "id", "bank_id", "kind", "pdq", "quality", "md5", "sha256", "duration", "source", "request_id",
    "import_id", "external_list", "external_id", "trust", "created", "expires",
)  # fmt: skip
_HASH_COLUMNS = ("entry_id", "bank_id", "role", "pdq", "quality", "indexed")
_FRAME_COLUMNS = ("entry_id", "bank_id", "pdq", "quality", "ts", "view")

Key = tuple[str, str]


@dataclass
class WriteResult:
    """What a batch of writes did: ids of added and withdrawn entries, and what was left alone."""

    added_ids: array[int]
    withdrawn_ids: array[int]
    unchanged: int = 0
    """Entries whose external name was already active in the bank."""
    absent: int = 0
    """Withdrawals of external names the bank did not hold."""


@dataclass
class _Withdrawal:
    key: Key
    reason: str


class EntryWriter:
    """Writes entries of one bank in batches; call ``finish()`` once, before the transaction commits."""

    def __init__(
        self,
        session: Session,
        bank: Bank,
        *,
        import_id: int | None = None,
        trust: str | None = None,
        batch_size: int = 20_000,
    ) -> None:
        if trust is not None and trust not in TRUSTS:
            raise ValueError(f"trust must be one of {', '.join(TRUSTS)}, not {trust!r}")
        self._session = session
        self._bank = bank
        self._import_id = import_id
        self._trust = trust or bank.trust
        self._batch_size = batch_size
        self._pending: list[NewEntry | _Withdrawal] = []
        self._lists: dict[str, dict[str, list[int]]] = {}
        self._now = utcnow()
        self.result = WriteResult(array("q"), array("q"))

    def add(self, entry: NewEntry) -> None:
        """Queue ``entry`` for adding."""
        self._queue(entry)

    def withdraw_external(self, external_list: str, external_id: str, reason: str) -> None:
        """Queue the withdrawal of every active entry the partner's list calls ``external_id``."""
        self._queue(_Withdrawal((external_list, external_id), reason))

    def finish(self) -> WriteResult:
        """Write what is queued, then the change feed; returns what was done."""
        self._flush()
        record_changes(self._session, self._bank.id, "add", self.result.added_ids)
        record_changes(self._session, self._bank.id, "withdraw", self.result.withdrawn_ids)
        return self.result

    def _queue(self, item: NewEntry | _Withdrawal) -> None:
        self._pending.append(item)
        if len(self._pending) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        to_add: list[NewEntry | None] = []
        to_withdraw: list[tuple[int, str]] = []
        for item in pending:
            key = item.key
            known = self._known(key[0]) if key is not None else {}
            if isinstance(item, NewEntry):
                if key is not None and known.get(key[1]):
                    self.result.unchanged += 1
                    continue
                to_add.append(item)
                if key is not None:
                    known[key[1]] = [-len(to_add)]  # not written yet: its place in to_add, negated
            elif not known.get(item.key[1]):
                self.result.absent += 1
            else:
                for entry_id in known.pop(item.key[1]):
                    if entry_id < 0:
                        to_add[-entry_id - 1] = None  # added and withdrawn in the same batch
                    else:
                        to_withdraw.append((entry_id, item.reason))
        connection = self._session.connection()
        added = [entry for entry in to_add if entry is not None]
        for entry, entry_id in zip(added, self._insert(connection, added), strict=True):
            if (key := entry.key) is not None and key[1] in self._known(key[0]):
                self._known(key[0])[key[1]] = [entry_id]
        self._withdraw(connection, to_withdraw)

    def _known(self, external_list: str) -> dict[str, list[int]]:
        """Active entries of a partner's list in this bank, by external id, read once per writer.

        Held in memory (about 150 MB for a million ids) rather than looked up batch by batch: the
        lookups would run against rows this transaction is adding, which PostgreSQL has no
        statistics for yet, and its plans for them degrade into a scan per batch.
        """
        known = self._lists.get(external_list)
        if known is None:
            known = self._lists[external_list] = defaultdict(list)
            rows = self._session.execute(
                select(Entry.external_id, Entry.id).where(
                    Entry.bank_id == self._bank.id,
                    Entry.external_list == external_list,
                    Entry.withdrawn_at.is_(None),
                )
            )
            for external_id, entry_id in rows:
                known[str(external_id)].append(entry_id)
        return known

    def _insert(self, connection: Connection, entries: list[NewEntry]) -> list[int]:
        ids = allocate_ids(connection, "entries", len(entries))
        created = db_time(connection, self._now)
        bank_id = self._bank.id
        entry_rows: list[tuple[Any, ...]] = []
        hash_rows: list[tuple[Any, ...]] = []
        frame_rows: list[tuple[Any, ...]] = []
        for entry_id, e in zip(ids, entries, strict=True):
            p = e.provenance
            entry_rows.append((
                entry_id, bank_id, e.kind, e.pdq, e.quality, e.md5, e.sha256, e.duration, p.source,
                p.request_id, self._import_id, p.external_list, p.external_id, p.trust or self._trust,
                created, db_time(connection, p.expires),
            ))  # fmt: skip
            hash_rows.extend((entry_id, bank_id, h.role, h.pdq, h.quality, h.indexed) for h in e.hashes)
            for f in e.frames:  # a frame's plain row, then its views' rows (``VideoFrame``)
                frame_rows.append((entry_id, bank_id, f.pdq, f.quality, f.ts, FRAME_ORIGINAL))
                frame_rows.extend((entry_id, bank_id, v.pdq, v.quality, f.ts, v.role) for v in f.views)
        copy_rows(connection, "entries", _ENTRY_COLUMNS, entry_rows)
        copy_rows(connection, "entry_hashes", _HASH_COLUMNS, hash_rows)
        copy_rows(connection, "video_frames", _FRAME_COLUMNS, frame_rows)
        self.result.added_ids.extend(ids)
        return ids

    def _withdraw(self, connection: Connection, withdrawals: list[tuple[int, str]]) -> None:
        if not withdrawals:
            return
        connection.execute(
            text(
                "UPDATE entries SET withdrawn_at = :at, withdrawn_reason = :reason WHERE id = :id"
            ).bindparams(bindparam("at", type_=UtcDateTime())),
            [{"at": self._now, "reason": reason, "id": entry_id} for entry_id, reason in withdrawals],
        )
        self.result.withdrawn_ids.extend(entry_id for entry_id, _ in withdrawals)
