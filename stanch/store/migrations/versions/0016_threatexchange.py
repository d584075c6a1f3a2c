"""ThreatExchange sources: ``exchange_sources.privacy_group``, the ThreatExchange privacy group (pytx's
``FBThreatExchangeCollabConfig.privacy_group``) a ``threatexchange`` source fetches ``threat_updates``
from. Other source types leave it empty. Additive: nothing else changes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_sources") as batch:
        batch.add_column(sa.Column("privacy_group", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_sources") as batch:
        batch.drop_column("privacy_group")
