"""Alembic environment: online migrations against the URL the caller configured."""

from __future__ import annotations

from alembic import context

import learning.registry.models  # noqa: F401 - its tables are on the same metadata
from capture.models import Base
from core.db import engine_for

url = context.config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set (migrations.alembic_config does)"
with engine_for(url).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
