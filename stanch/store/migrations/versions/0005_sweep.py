"""Sweeps: the catalog's stored hashes and each sweep's checkpoint.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("since_id", sa.Integer(), nullable=True),
        sa.Column("bank_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("hashed", sa.Integer(), nullable=False),
        sa.Column("reused", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'finished')", name=op.f("ck_sweeps_status")),
        sa.ForeignKeyConstraint(["case_id"], ["takedown_requests.id"],
                                name=op.f("fk_sweeps_case_id_takedown_requests")),
        sa.ForeignKeyConstraint(["since_id"], ["sweeps.id"], name=op.f("fk_sweeps_since_id_sweeps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweeps")),
    )
    op.create_table(
        "catalog_items",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=True),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("record", sa.Text(), nullable=True),
        sa.Column("hashed_at", _TIME, nullable=True),
        sa.Column("matched_seq", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("failed_at", _TIME, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweeps.id"], name=op.f("fk_catalog_items_sweep_id_sweeps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_catalog_items_key_hash")),
    )
    op.create_index(op.f("ix_catalog_items_sweep_id"), "catalog_items", ["sweep_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_items_sweep_id"), table_name="catalog_items")
    op.drop_table("catalog_items")
    op.drop_table("sweeps")
