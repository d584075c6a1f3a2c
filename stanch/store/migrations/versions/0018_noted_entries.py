"""Partial indexes on the entries a starting server must read besides the hashes (issue 16): a start
from an index snapshot then reads those entries through the indexes (a read that grows with the noted
entries, not with the bank) instead of scanning ``entries`` and ``entry_hashes``. Lists of bare PDQ
hashes (most rows) are in neither index. Additive: nothing else changes.

``ix_entries_noted``: entries with a digest, an expiry or ``review`` trust.
``ix_entry_hashes_noted``: hashes not indexed or of a view other than the 8 dihedral ones.
The predicates are ``stanch.store.models.ENTRY_NOTED`` and ``HASH_NOTED`` as of this revision (a test
checks they agree).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ENTRY_NOTED = "md5 IS NOT NULL OR sha256 IS NOT NULL OR expires IS NOT NULL OR trust = 'review'"
HASH_NOTED = (
    "\"indexed\" = FALSE OR role NOT IN ('original', 'rotate90', 'rotate180', 'rotate270', 'flipx',"
    " 'flipy', 'flip_plus1', 'flip_minus1')"
)


def upgrade() -> None:
    op.create_index("ix_entries_noted", "entries", ["id"],
                    sqlite_where=sa.text(ENTRY_NOTED), postgresql_where=sa.text(ENTRY_NOTED))
    op.create_index("ix_entry_hashes_noted", "entry_hashes", ["entry_id"],
                    sqlite_where=sa.text(HASH_NOTED), postgresql_where=sa.text(HASH_NOTED))


def downgrade() -> None:
    op.drop_index("ix_entry_hashes_noted", table_name="entry_hashes")
    op.drop_index("ix_entries_noted", table_name="entries")
