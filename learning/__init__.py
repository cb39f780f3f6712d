"""The learning loop: dataset export, evaluation, fine-tuning (plain code, no web framework)."""
