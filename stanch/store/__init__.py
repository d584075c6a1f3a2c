"""The store: banks of hashes, their change feed, and API keys, in SQLite or PostgreSQL.

Typical use::

    db = open_database()                      # STANCH_DATABASE_URL, migrated
    with db.write() as session:
        bank = create_bank(session, "ncii")
        add_entry(session, bank, entry_from_hashes(pdq=hex_hash))
    with db.read() as session:
        for row in iter_index_rows(session): ...
"""

from stanch.store.banks import (
    BankExists,
    StoredEntry,
    UnknownBank,
    UnknownEntry,
    active_entry_counts,
    add_entries,
    add_entry,
    bank_record,
    create_bank,
    find_by_digest,
    get_bank,
    get_entry,
    iter_entries,
    list_banks,
    start_import,
    update_bank,
    withdraw_entry,
    withdraw_expired,
)
from stanch.store.changes import (
    Change,
    FeedPage,
    PrunedFeed,
    feed_since,
    latest_seq,
    prune_feed,
)
from stanch.store.db import Database, open_database
from stanch.store.engine import UnstorableText, create_store_engine, normalize_url
from stanch.store.entries import (
    FrameRow,
    NewEntry,
    PdqRow,
    Provenance,
    entry_from_hashes,
    entry_from_signals,
    frames_from_rows,
)
from stanch.store.identity import database_identity, feed_row
from stanch.store.index_rows import (
    frame_rows_for_entries,
    index_rows_for_entries,
    iter_frame_batches,
    iter_index_batches,
    iter_index_rows,
)
from stanch.store.keys import SCOPES, create_key, list_keys, revoke_key, verify_key
from stanch.store.migrate import upgrade
from stanch.store.models import (
    BANK_KINDS,
    TRUSTS,
    ApiKey,
    Bank,
    Base,
    Entry,
    EntryHash,
    Import,
    VideoFrame,
    utcnow,
)
from stanch.store.writer import EntryWriter, WriteResult

__all__ = [
    "BANK_KINDS",
    "SCOPES",
    "TRUSTS",
    "ApiKey",
    "Bank",
    "BankExists",
    "Base",
    "Change",
    "Database",
    "Entry",
    "EntryHash",
    "EntryWriter",
    "FeedPage",
    "FrameRow",
    "Import",
    "NewEntry",
    "PdqRow",
    "Provenance",
    "PrunedFeed",
    "StoredEntry",
    "UnknownBank",
    "UnknownEntry",
    "UnstorableText",
    "VideoFrame",
    "WriteResult",
    "active_entry_counts",
    "add_entries",
    "add_entry",
    "bank_record",
    "create_bank",
    "create_key",
    "create_store_engine",
    "database_identity",
    "entry_from_hashes",
    "entry_from_signals",
    "feed_row",
    "feed_since",
    "find_by_digest",
    "frame_rows_for_entries",
    "frames_from_rows",
    "get_bank",
    "get_entry",
    "index_rows_for_entries",
    "iter_entries",
    "iter_frame_batches",
    "iter_index_batches",
    "iter_index_rows",
    "latest_seq",
    "list_banks",
    "list_keys",
    "normalize_url",
    "open_database",
    "prune_feed",
    "revoke_key",
    "start_import",
    "update_bank",
    "upgrade",
    "utcnow",
    "verify_key",
    "withdraw_entry",
    "withdraw_expired",
]
