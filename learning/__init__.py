"""The learning loop: fine-tuning, the model registry, experiments (A/B) and promotion.

Plain code that the CLI, the admin API and Celery tasks call; it imports ``core`` and the
capture store, never ``api``.
"""
