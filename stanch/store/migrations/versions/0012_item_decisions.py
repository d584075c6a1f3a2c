"""Decisions per item: ``item_decisions``, ``entry_sources``, ``appeal_items`` (decision_models).

Existing decided cases get an ``item_decisions`` row per item, so every case reads the same way: the
items of a removed or reinstated case whose removal was sent are ``remove`` (decided by the case's
reviewer, at the removal), those of a rejected case ``reject`` with the case's reason. Which item a bank
entry came from cannot be told afterwards, so such cases get no ``entry_sources`` rows: their entries
stay backed by the case as a whole, until every removed item of it is reinstated.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_decisions",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("decision IN ('remove', 'reject')", name=op.f("ck_item_decisions_decision")),
        sa.ForeignKeyConstraint(["item_id"], ["request_items.id"],
                                name=op.f("fk_item_decisions_item_id_request_items")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_item_decisions_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_decisions")),
    )
    op.create_index(op.f("ix_item_decisions_request_id"), "item_decisions", ["request_id"])
    op.create_table(
        "entry_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_entry_sources_entry_id_entries")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_entry_sources_request_id_takedown_requests")),
        sa.ForeignKeyConstraint(["item_id"], ["request_items.id"],
                                name=op.f("fk_entry_sources_item_id_request_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_sources")),
    )
    for column in ("entry_id", "request_id", "item_id"):
        op.create_index(op.f(f"ix_entry_sources_{column}"), "entry_sources", [column])
    op.create_table(
        "appeal_items",
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"],
                                name=op.f("fk_appeal_items_appeal_id_appeals")),
        sa.ForeignKeyConstraint(["item_id"], ["request_items.id"],
                                name=op.f("fk_appeal_items_item_id_request_items")),
        sa.PrimaryKeyConstraint("appeal_id", "item_id", name=op.f("pk_appeal_items")),
    )
    op.create_index(op.f("ix_appeal_items_item_id"), "appeal_items", ["item_id"])
    op.execute(
        "INSERT INTO item_decisions (item_id, request_id, decision, reason, decided_at, decided_by) "
        "SELECT i.id, i.request_id, 'remove', NULL, i.removal_sent_at, COALESCE(r.decided_by, 'system') "
        "FROM request_items i JOIN takedown_requests r ON r.id = i.request_id "
        "WHERE i.removal_sent_at IS NOT NULL"
    )
    op.execute(
        "INSERT INTO item_decisions (item_id, request_id, decision, reason, decided_at, decided_by) "
        "SELECT i.id, i.request_id, 'reject', r.decision_reason, r.decided_at, "
        "COALESCE(r.decided_by, 'system') "
        "FROM request_items i JOIN takedown_requests r ON r.id = i.request_id "
        "WHERE r.status = 'rejected' AND r.decided_at IS NOT NULL AND i.removal_sent_at IS NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_appeal_items_item_id"), table_name="appeal_items")
    op.drop_table("appeal_items")
    for column in ("entry_id", "request_id", "item_id"):
        op.drop_index(op.f(f"ix_entry_sources_{column}"), table_name="entry_sources")
    op.drop_table("entry_sources")
    op.drop_index(op.f("ix_item_decisions_request_id"), table_name="item_decisions")
    op.drop_table("item_decisions")
