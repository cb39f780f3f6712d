"""Consent and feedback events carry an id, so a redelivered task records them only once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


TABLES = ("consent_events", "feedback")


def upgrade() -> None:
    """Apply: events recorded before this revision get their row id as event id."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("event_id", sa.String(length=32), nullable=True))
        op.execute(f"UPDATE {table} SET event_id = CAST(id AS VARCHAR(32))")  # noqa: S608
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("event_id", existing_type=sa.String(length=32), nullable=False)
            batch_op.create_unique_constraint(f"uq_{table}_event_id", ["event_id"])


def downgrade() -> None:
    """Revert."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_event_id", type_="unique")
            batch_op.drop_column("event_id")
