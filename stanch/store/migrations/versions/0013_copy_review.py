"""Copies reviewed by confidence: each bank's auto-remove rule (``banks.auto_remove``), the review state
of a copy (``request_items.review`` and who decided it, why, and by when), which bank entries and view
matched it, how many video keyframes its spooled preview holds; and ``leases``, the named leases that
let one of several server processes run a periodic job (housekeeping).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("auto_remove", sa.String(length=200), nullable=True))
    with op.batch_alter_table("request_items") as batch:
        batch.add_column(sa.Column("review", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("view", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("entries", sa.Text(), nullable=True))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("preview_frames", sa.Integer(), nullable=True))
        batch.create_check_constraint(op.f("ck_request_items_review"),
                                      "review IN ('pending', 'removed', 'rejected')")
        batch.create_index(op.f("ix_request_items_review"), ["review"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_done", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("request_items") as batch:
        batch.drop_index(op.f("ix_request_items_review"))
        batch.drop_constraint(op.f("ck_request_items_review"), type_="check")
        for name in ("preview_frames", "review_reason", "reviewed_by", "reviewed_at", "due_at", "entries",
                     "view", "review"):
            batch.drop_column(name)
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("auto_remove")
