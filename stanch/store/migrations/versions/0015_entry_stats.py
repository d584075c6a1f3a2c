"""Flood guard and retroactive matching: ``entry_stats`` (per-entry served / confirmed / rejected),
``match_windows`` (distinct uploads per entry per hour), ``upload_log`` (opt-in recent upload hashes
and item ids), ``retro_cursor``, and ``entries.disabled_at`` / ``disabled_reason`` (an entry an admin
switched off without withdrawing it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("disabled_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "entry_stats",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("served", sa.BigInteger(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flooded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retro_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_entry_stats_entry_id_entries")),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_entry_stats")),
    )
    op.create_table(
        "match_windows",
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("uploads", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "entry_id", name=op.f("pk_match_windows")),
    )
    op.create_table(
        "upload_log",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=500), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_log")),
    )
    op.create_index(op.f("ix_upload_log_logged_at"), "upload_log", ["logged_at"])
    op.create_table(
        "retro_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_cursor")),
    )


def downgrade() -> None:
    op.drop_table("retro_cursor")
    op.drop_index(op.f("ix_upload_log_logged_at"), table_name="upload_log")
    op.drop_table("upload_log")
    op.drop_table("match_windows")
    op.drop_table("entry_stats")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("disabled_reason")
        batch.drop_column("disabled_at")
