"""Reviewers' 1-5 ratings of the answers' voices (human MOS), erased with their capture.

Revision ID: 0004_voice_ratings
Revises: 0004_dead_letter_replay
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_voice_ratings"
down_revision = "0004_dead_letter_replay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "voice_ratings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("voice", sa.String(length=32), nullable=False),
        sa.Column("tts", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["captures.session_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "reviewer", "voice", "version"),
    )
    with op.batch_alter_table("voice_ratings", schema=None) as batch_op:
        batch_op.create_index("ix_voice_ratings_item_id", ["item_id"], unique=False)
        batch_op.create_index("ix_voice_ratings_session_id", ["session_id"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_table("voice_ratings")
