"""The learning loop: datasets from consented turns, their evaluation, and more.

``learning.dataset`` exports training data; ``learning.evaluation`` measures models. Plain
code like ``capture``: the CLI, the admin API and Celery tasks call it. It imports
``capture``, ``redaction`` and ``core``, never ``api``.
"""
