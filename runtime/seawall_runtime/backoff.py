"""Backoff delays with jitter (AWS "Exponential Backoff and Jitter")."""

from __future__ import annotations

import random

from seawall_runtime.policies import Backoff


def ceiling(backoff: Backoff, retry: int) -> float:
    """The un-jittered delay before retry number ``retry`` (0-based), capped at max.

    Multiplied step by step so huge multipliers saturate at ``max`` instead of
    overflowing.
    """
    value = backoff.initial
    for _ in range(retry):
        if value >= backoff.max:
            break
        value *= backoff.multiplier
    return min(value, backoff.max)


def next_delay(backoff: Backoff, retry: int, previous: float | None, rng: random.Random) -> float:
    """The delay before retry number ``retry``; ``previous`` is the last delay."""
    if backoff.jitter == "decorrelated":
        last = backoff.initial if previous is None else max(previous, backoff.initial)
        return min(backoff.max, rng.uniform(backoff.initial, last * 3))
    top = ceiling(backoff, retry)
    if backoff.jitter == "full":
        return rng.uniform(0.0, top)
    if backoff.jitter == "equal":
        return top / 2 + rng.uniform(0.0, top / 2)
    return top
