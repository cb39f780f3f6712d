"""The capture tables call a turn's id ``turn_id``.

It was ``session_id``, the name the voice protocol gives a whole session.

Revision ID: turn_id_columns
Revises: model_registry
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "turn_id_columns"
down_revision = "model_registry"
branch_labels = None
depends_on = None
# table -> does it have an index on the column (captures: it is the primary key)
TABLES = {
    "captures": False,
    "feedback": True,
    "review_items": True,
    "review_decisions": True,
    "voice_ratings": True,
}


def _rename(old: str, new: str) -> None:
    # PostgreSQL and SQLite (3.25+) both rename in place; foreign keys follow the column.
    for table, indexed in TABLES.items():
        if indexed:
            op.drop_index(f"ix_{table}_{old}", table_name=table)
        op.alter_column(table, old, new_column_name=new)
        if indexed:
            op.create_index(f"ix_{table}_{new}", table, [new], unique=False)


def upgrade() -> None:
    """Apply."""
    _rename("session_id", "turn_id")


def downgrade() -> None:
    """Revert."""
    _rename("turn_id", "session_id")
