"""JSON list columns hold the list itself: ``[...]`` where they held ``{"items": [...]}``.

``captures.word_times``, ``review_items.spans`` and ``tags``, ``review_decisions.spans`` and
``tags``. Existing rows are converted in place by one UPDATE per column, both ways. The server
defaults (``word_times``, ``review_items.tags``) follow on PostgreSQL; on SQLite changing one
means rebuilding the table, which with foreign keys on would cascade-delete the rows that
reference it, so the old default text stays there: every insert goes through SQLAlchemy,
which supplies ``[]``.

Revision ID: list_json_columns
Revises: 0004_voice_ratings
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "list_json_columns"
down_revision = "0004_voice_ratings"
branch_labels = None
depends_on = None
COLUMNS = (
    ("captures", "word_times"),
    ("review_items", "spans"),
    ("review_items", "tags"),
    ("review_decisions", "spans"),
    ("review_decisions", "tags"),
)
DEFAULTS = (("captures", "word_times"), ("review_items", "tags"))


# Per dialect: ``{"items": [...]}`` → ``[...]`` (an object without ``items`` becomes ``[]``)
UNWRAP = {
    "postgresql": "UPDATE {table} SET {column} = COALESCE(({column}::jsonb -> 'items'), '[]')::json"
    " WHERE json_typeof({column}) = 'object'",
    "sqlite": "UPDATE {table} SET {column} = COALESCE(json_extract({column}, '$.items'), '[]')"
    " WHERE json_type({column}) = 'object'",
}
WRAP = {  # and back: ``[...]`` → ``{"items": [...]}``
    "postgresql": "UPDATE {table} SET {column} = json_build_object('items', {column})"
    " WHERE json_typeof({column}) = 'array'",
    "sqlite": "UPDATE {table} SET {column} = json_object('items', json({column}))"
    " WHERE json_type({column}) = 'array'",
}


def upgrade() -> None:
    """Apply."""
    dialect = op.get_bind().dialect.name
    for table, column in COLUMNS:
        op.execute(sa.text(UNWRAP[dialect].format(table=table, column=column)))
    if dialect == "postgresql":
        for table, column in DEFAULTS:
            op.alter_column(table, column, server_default=sa.text("'[]'"))


def downgrade() -> None:
    """Revert."""
    dialect = op.get_bind().dialect.name
    for table, column in COLUMNS:
        op.execute(sa.text(WRAP[dialect].format(table=table, column=column)))
    if dialect == "postgresql":
        for table, column in DEFAULTS:
            op.alter_column(table, column, server_default=sa.text("'{\"items\": []}'"))
