"""The takedown desk: requests, locations, items and copies, bank entries per request, appeals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "takedown_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("deadline", _TIME, nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("requester_email", sa.String(length=320), nullable=False),
        sa.Column("requester_phone", sa.String(length=50), nullable=True),
        sa.Column("requester_contact", sa.Text(), nullable=True),
        sa.Column("relationship", sa.String(length=12), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("hashes", sa.Text(), nullable=False),
        sa.Column("contact_hash", sa.String(length=64), nullable=False),
        sa.Column("flags", sa.Text(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'in_review', 'need_info', 'removed', 'rejected', 'withdrawn',"
            " 'reinstated')",
            name=op.f("ck_takedown_requests_status"),
        ),
        sa.CheckConstraint(
            "relationship IN ('self', 'authorised')", name=op.f("ck_takedown_requests_relationship")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["takedown_requests.id"],
            name=op.f("fk_takedown_requests_duplicate_of_takedown_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedown_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_takedown_requests_public_id")),
    )
    op.create_index("ix_takedown_requests_open", "takedown_requests", ["status", "deadline"])
    op.create_index(op.f("ix_takedown_requests_contact_hash"), "takedown_requests", ["contact_hash"])

    op.create_table(
        "request_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("added_at", _TIME, nullable=False),
        sa.CheckConstraint("state IN ('pending', 'located', 'failed')",
                           name=op.f("ck_request_locations_state")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_request_locations_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_locations")),
    )
    op.create_index(op.f("ix_request_locations_request_id"), "request_locations", ["request_id"])

    op.create_table(
        "request_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=500), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("hashes", sa.Text(), nullable=False),
        sa.Column("signal", sa.String(length=20), nullable=True),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("added_at", _TIME, nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("removal_sent_at", _TIME, nullable=True),
        sa.Column("reinstated_at", _TIME, nullable=True),
        sa.CheckConstraint("origin IN ('located', 'copy')", name=op.f("ck_request_items_origin")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_request_items_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_items")),
        sa.UniqueConstraint("request_id", "item_id", name=op.f("uq_request_items_request_id_item_id")),
    )
    op.create_index(op.f("ix_request_items_request_id"), "request_items", ["request_id"])
    op.create_index(op.f("ix_request_items_item_id"), "request_items", ["item_id"])

    op.create_table(
        "request_entries",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"],
                                name=op.f("fk_request_entries_entry_id_entries")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_request_entries_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("request_id", "entry_id", name=op.f("pk_request_entries")),
    )
    op.create_index(op.f("ix_request_entries_entry_id"), "request_entries", ["entry_id"])

    op.create_table(
        "request_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_request_notes_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_notes")),
    )
    op.create_index(op.f("ix_request_notes_request_id"), "request_notes", ["request_id"])

    op.create_table(
        "request_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_request_escalations_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_escalations")),
        sa.UniqueConstraint("request_id", "hours", name=op.f("uq_request_escalations_request_id_hours")),
    )
    op.create_index(op.f("ix_request_escalations_request_id"), "request_escalations", ["request_id"])

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("deadline", _TIME, nullable=False),
        sa.Column("appellant_name", sa.String(length=200), nullable=False),
        sa.Column("appellant_email", sa.String(length=320), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("status IN ('received', 'upheld', 'reinstated')", name=op.f("ck_appeals_status")),
        sa.ForeignKeyConstraint(["request_id"], ["takedown_requests.id"],
                                name=op.f("fk_appeals_request_id_takedown_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("public_id", name=op.f("uq_appeals_public_id")),
    )
    op.create_index(op.f("ix_appeals_request_id"), "appeals", ["request_id"])

    op.create_table(
        "intake_events",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_events")),
    )
    op.create_index("ix_intake_events_key", "intake_events", ["kind", "key_hash", "at"])

    op.create_table(
        "desk_secrets",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_secrets")),
    )


def downgrade() -> None:
    op.drop_table("desk_secrets")
    op.drop_index("ix_intake_events_key", table_name="intake_events")
    op.drop_table("intake_events")
    for table in ("appeals", "request_escalations", "request_notes", "request_entries", "request_items",
                  "request_locations"):
        op.drop_table(table)
    op.drop_index("ix_takedown_requests_open", table_name="takedown_requests")
    op.drop_table("takedown_requests")
