"""Video frame views: ``video_frames.view`` names each row's view of its frame.

A frame's plain hash keeps ``original`` (every row written before this migration is one); the rows of
its views (``centre``, ``trimmed``) follow it in id order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "video_frames",
        sa.Column("view", sa.String(length=40), server_default="original", nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM video_frames WHERE view <> 'original'")
    with op.batch_alter_table("video_frames") as batch:
        batch.drop_column("view")
