"""Minors: ``takedown_requests.minor`` (the person shown was under 18 when the picture or video was
made) and a third bank kind, ``minor`` (banks holding such imagery's hashes; they match as ``match``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("takedown_requests") as batch:
        batch.add_column(sa.Column("minor", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("banks") as batch:
        batch.drop_constraint(op.f("ck_banks_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_banks_kind"), "kind IN ('match', 'allow', 'minor')")


def downgrade() -> None:
    op.execute("UPDATE banks SET kind = 'match' WHERE kind = 'minor'")
    with op.batch_alter_table("banks") as batch:
        batch.drop_constraint(op.f("ck_banks_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_banks_kind"), "kind IN ('match', 'allow')")
    with op.batch_alter_table("takedown_requests") as batch:
        batch.drop_column("minor")
