"""Dead letters can be replayed: when (``replayed_at``) and how many failures one row stands for.

Revision ID: 0004_dead_letter_replay
Revises: 0003
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_dead_letter_replay"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_column("failures")
        batch_op.drop_column("replayed_at")
