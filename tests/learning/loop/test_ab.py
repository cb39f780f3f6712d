"""A/B assignment (sticky, split as asked) and the always-valid test of thumbs-up rates."""

from __future__ import annotations

import hashlib
import random

from learning.experiments.ab import Running, bucket
from learning.experiments.figures import msprt_pvalue

USERS = [hashlib.sha256(f"user-{n}".encode()).hexdigest() for n in range(10_000)]


def test_assignment_is_sticky_and_splits_within_tolerance_on_10000_users() -> None:
    experiment = Running("exp-1", "stt-base", "stt-new", share=0.1)
    arms = [experiment.assign(user).variant for user in USERS]
    again = [experiment.assign(user).variant for user in USERS]
    assert arms == again  # sticky
    share = arms.count("challenger") / len(arms)
    assert abs(share - 0.1) < 0.01, share  # binomial sd 0.003: 3 sd
    # another experiment reshuffles: who was a challenger is not again by design
    other = [Running("exp-2", "a", "b", share=0.1).assign(u).variant for u in USERS]
    both = sum(a == b == "challenger" for a, b in zip(arms, other, strict=True))
    assert abs(both / len(USERS) - 0.01) < 0.005
    half = [Running("exp-3", "a", "b", share=0.5).assign(u).variant for u in USERS]
    assert abs(half.count("challenger") / len(USERS) - 0.5) < 0.02
    # a challenger's record names the model version and the experiment
    assigned = experiment.assign(USERS[arms.index("challenger")])
    assert assigned.record() == {
        "stt_version": "stt-new",
        "experiment": "exp-1",
        "variant": "challenger",
    }


def test_buckets_are_uniform() -> None:
    counts = [0] * 10
    for user in USERS:
        counts[bucket("exp-1", user) * 10 // 10_000] += 1
    assert all(abs(c - 1000) < 120 for c in counts), counts


def _stream(rate_a: float, rate_b: float, n: int, seed: int) -> list[tuple[str, bool]]:
    rng = random.Random(seed)
    events = []
    for _ in range(n):
        variant = "challenger" if rng.random() < 0.5 else "control"
        rate = rate_b if variant == "challenger" else rate_a
        events.append((variant, rng.random() < rate))
    return events


def test_peeking_every_day_does_not_inflate_false_wins() -> None:
    """No difference: over 200 experiments peeked after every vote, few ever look significant.

    A fixed-sample z-test peeked this often would cross p < 0.05 in far more than 5 % of them.
    """
    false_wins = sum(msprt_pvalue(_stream(0.7, 0.7, 1500, seed)) < 0.05 for seed in range(200))
    assert false_wins <= 10, false_wins  # alpha 5 % of 200, with room for sampling


def test_a_real_difference_is_found() -> None:
    found = sum(msprt_pvalue(_stream(0.6, 0.75, 3000, seed)) < 0.05 for seed in range(20))
    assert found >= 18, found
