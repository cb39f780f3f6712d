"""Manual review of captured turns: admin API keys, weekly batches, decisions, statistics."""
