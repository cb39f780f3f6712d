"""A/B experiments on live traffic, per-variant figures, and the promotion gate."""
