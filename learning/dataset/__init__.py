"""Training datasets from consented, redacted, reviewed turns (``voice-service dataset export``).

``export.export_dataset`` is the entry point; docs/LEARNING.md describes the rules and the
output formats.
"""
