"""Compliance: ``statements`` (statements of reasons, one per removed item of a request, with where each
stands with the DSA Transparency Database); outbox messages of kind ``dsa`` (batches for it).

Chained after 0010 (exchange), which widened the outbox ``kind`` check to allow ``exchange``: this one
allows every kind (``webhook``, ``email``, ``exchange``, ``dsa``), and its downgrade restores 0010's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=500), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("ground", sa.String(length=10), nullable=False),
        sa.Column("law", sa.Text(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("automated_detection", sa.Boolean(), nullable=False),
        sa.Column("automated_decision", sa.Boolean(), nullable=False),
        sa.Column("redress", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tdb_state", sa.String(length=10), nullable=False),
        sa.Column("tdb_message", sa.Text(), nullable=True),
        sa.Column("tdb_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("tdb_state IN ('off', 'pending', 'queued', 'sent', 'rejected')",
                           name=op.f("ck_statements_tdb_state")),
        sa.CheckConstraint("ground IN ('illegal', 'terms')", name=op.f("ck_statements_ground")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_statements_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("public_id", name=op.f("uq_statements_public_id")),
        sa.UniqueConstraint("request_id", "item_id", name=op.f("uq_statements_request_id_item_id")),
    )
    op.create_index(op.f("ix_statements_request_id"), "statements", ["request_id"])
    op.create_index(op.f("ix_statements_item_id"), "statements", ["item_id"])
    op.create_index(op.f("ix_statements_tdb_state"), "statements", ["tdb_state"])
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_kind"),
                                      "kind IN ('webhook', 'email', 'exchange', 'dsa')")


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'dsa'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_kind"), "kind IN ('webhook', 'email', 'exchange')")
    op.drop_index(op.f("ix_statements_tdb_state"), table_name="statements")
    op.drop_index(op.f("ix_statements_item_id"), table_name="statements")
    op.drop_index(op.f("ix_statements_request_id"), table_name="statements")
    op.drop_table("statements")
