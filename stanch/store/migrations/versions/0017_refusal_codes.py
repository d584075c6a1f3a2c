"""Refusal reason codes: ``item_decisions.reason_code``, the reason a reviewer picked from the fixed
vocabulary (``stanch.actions.refusals``) when refusing an item, which the requester's decision email may
carry (the free-text ``reason`` never is). NULL for removals, for refusals given without a code and for
every decision taken before this revision. Additive: nothing else changes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_decisions") as batch:
        batch.add_column(sa.Column("reason_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_decisions") as batch:
        batch.drop_column("reason_code")
