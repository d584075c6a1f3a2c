"""Change feed pruning: ``bank_changes_pruned`` records each pruning, the newest ``through`` being the
feed's watermark (rows with ``seq <= through`` may be gone; a follower below it reloads).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_changes_pruned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_changes_pruned")),
    )


def downgrade() -> None:
    op.drop_table("bank_changes_pruned")
