"""The learning loop: training datasets from consented turns (``learning.dataset``), and more.

Plain code like ``capture``: the CLI, the admin API and Celery tasks call it. It imports
``capture``, ``redaction`` and ``core``, never ``api``.
"""
