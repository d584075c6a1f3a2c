"""Banks, entries with their hashes and frames, imports, the change feed, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 10:39:51.001420
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "bank_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.CheckConstraint("op IN ('add', 'withdraw', 'bank')", name=op.f("ck_bank_changes_op")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_bank_changes")),
    )
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('match', 'allow')", name=op.f("ck_banks_kind")),
        sa.CheckConstraint("trust IN ('block', 'review')", name=op.f("ck_banks_trust")),
        sa.CheckConstraint("threshold >= 0 AND threshold <= 256", name=op.f("ck_banks_threshold")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_banks")),
        sa.UniqueConstraint("name", name=op.f("uq_banks_name")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_imports_bank_id_banks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_bank_id"), "imports", ["bank_id"])

    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=True),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("external_list", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("trust", sa.String(length=10), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("kind IN ('image', 'video')", name=op.f("ck_entries_kind")),
        sa.CheckConstraint("trust IN ('block', 'review')", name=op.f("ck_entries_trust")),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], name=op.f("fk_entries_bank_id_banks")),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_entries_import_id_imports")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
    )
    op.create_index("ix_entries_external", "entries", ["bank_id", "external_list", "external_id"])
    op.create_index(
        "ix_entries_md5",
        "entries",
        ["md5"],
        sqlite_where=sa.text("md5 IS NOT NULL"),
        postgresql_where=sa.text("md5 IS NOT NULL"),
    )
    op.create_index(
        "ix_entries_sha256",
        "entries",
        ["sha256"],
        sqlite_where=sa.text("sha256 IS NOT NULL"),
        postgresql_where=sa.text("sha256 IS NOT NULL"),
    )

    op.create_table(
        "entry_hashes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.Column("indexed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_entry_hashes_entry_id_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_hashes")),
    )
    op.create_index(op.f("ix_entry_hashes_entry_id"), "entry_hashes", ["entry_id"])

    op.create_table(
        "video_frames",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_video_frames_entry_id_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_frames")),
    )
    op.create_index(op.f("ix_video_frames_entry_id"), "video_frames", ["entry_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_video_frames_entry_id"), table_name="video_frames")

    op.drop_table("video_frames")
    op.drop_index(op.f("ix_entry_hashes_entry_id"), table_name="entry_hashes")

    op.drop_table("entry_hashes")
    op.drop_index("ix_entries_sha256", table_name="entries")
    op.drop_index("ix_entries_md5", table_name="entries")
    op.drop_index("ix_entries_external", table_name="entries")

    op.drop_table("entries")
    op.drop_index(op.f("ix_imports_bank_id"), table_name="imports")

    op.drop_table("imports")
    op.drop_table("banks")
    op.drop_table("bank_changes")
    op.drop_table("api_keys")
