"""Celery app and thin tasks for the capture pipeline: ``celery -A workers worker``."""

from workers.app import app

__all__ = ["app"]
