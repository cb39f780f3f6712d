"""Consent ledger, spool, FLAC encoding, object store and metadata (see the capture issue)."""
