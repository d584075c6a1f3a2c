"""Preview spool: ``request_items.spool_id`` names an item's encrypted preview file, while it is kept.

Null for items with no spooled preview (hashes given by the platform, catalog items, copies) and once
the preview is deleted (a decision, a withdrawal, or its age).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("request_items", sa.Column("spool_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("request_items") as batch:
        batch.drop_column("spool_id")
