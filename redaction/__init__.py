"""PII detection and redaction of text and audio (see the redaction issue)."""
