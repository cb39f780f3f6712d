"""Celery app and thin tasks for the capture pipeline (see the capture issue)."""
