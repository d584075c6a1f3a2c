"""Live exchange: ``exchange_sources`` (settings, checkpoint, counts, backoff, lease) and
``exchange_quarantine`` (records and pages a fetch could not read); outbox messages of kind
``exchange`` (feedback and hashes to sources); ``takedown_requests.share_consent`` (whether the
requester agreed to share their hashes with partners; existing requests: no).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("credentials_env", sa.String(200), nullable=True),
        sa.Column("credentials_file", sa.Text(), nullable=True),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("trust", sa.String(10), nullable=False),
        sa.Column("schedule_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.Boolean(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("trust IN ('block', 'review')", name=op.f("ck_exchange_sources_trust")),
        sa.CheckConstraint("schedule_seconds >= 60", name=op.f("ck_exchange_sources_schedule")),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_exchange_sources_bank_id_banks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_sources_name")),
    )
    op.create_index(op.f("ix_exchange_sources_bank_id"), "exchange_sources", ["bank_id"])
    op.create_table(
        "exchange_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["exchange_sources.id"],
            name=op.f("fk_exchange_quarantine_source_id_exchange_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_quarantine")),
    )
    op.create_index(op.f("ix_exchange_quarantine_source_id"), "exchange_quarantine", ["source_id"])
    with op.batch_alter_table("takedown_requests") as batch:  # may removed hashes go to partners? no
        batch.add_column(sa.Column("share_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("outbox") as batch:  # feedback to sources goes through the outbox
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint("kind", "kind IN ('webhook', 'email', 'exchange')")


def downgrade() -> None:
    with op.batch_alter_table("takedown_requests") as batch:
        batch.drop_column("share_consent")
    op.execute("DELETE FROM outbox WHERE kind = 'exchange'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint("kind", "kind IN ('webhook', 'email')")
    op.drop_index(op.f("ix_exchange_quarantine_source_id"), table_name="exchange_quarantine")
    op.drop_table("exchange_quarantine")
    op.drop_index(op.f("ix_exchange_sources_bank_id"), table_name="exchange_sources")
    op.drop_table("exchange_sources")
