"""Celery app and thin tasks for the capture pipeline: ``celery -A workers worker``.

The app is made on first use of ``workers.app`` (it reads the settings), so importing the
configuration (``workers.config``) to enqueue work reads nothing at import time.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from workers.tasks import app

        return app
    raise AttributeError(name)
