"""Speaker-disjoint splits: a speaker's hash alone decides their split, so no speaker is in two.

The speaker column holds a hash of the (already pseudonymous) user id with a salt, so a dataset
cannot be joined back to the capture database by user; the turn id still names each turn for
erasure.
"""

from __future__ import annotations

import hashlib

from learning.dataset.options import SPLITS

_SPAN = 16**16


def speaker_of(user_id: str, salt: str) -> str:
    """The speaker id written to the dataset (16 hex characters)."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:16]


def split_of(speaker: str, shares: dict[str, float]) -> str:
    """train, dev or test: where the speaker's hash falls in the cumulative shares."""
    point = int(speaker, 16) / _SPAN
    edge = 0.0
    for name in SPLITS:
        edge += shares[name]
        if point < edge:
            return name
    return next(name for name in reversed(SPLITS) if shares[name] > 0)
