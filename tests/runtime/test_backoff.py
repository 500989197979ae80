"""Backoff delays stay within their bounds for every jitter mode."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall_runtime import Backoff
from seawall_runtime.backoff import ceiling, next_delay
from seawall_runtime.retry_after import parse_retry_after

backoffs = st.builds(
    lambda initial, extra, multiplier, jitter: Backoff(
        initial=initial, max=initial + extra, multiplier=multiplier, jitter=jitter
    ),
    st.floats(0.001, 10),
    st.floats(0, 100),
    st.floats(1, 1e300),
    st.sampled_from(["full", "equal", "decorrelated", "none"]),
)


@settings(deadline=None)  # pure arithmetic, but the machine may be loaded
@given(backoffs, st.integers(0, 9), st.integers(0, 2**32), st.floats(0, 1000) | st.none())
def test_each_delay_stays_within_its_bounds(
    backoff: Backoff, retry: int, seed: int, previous: float | None
) -> None:
    delay = next_delay(backoff, retry, previous, random.Random(seed))
    top = ceiling(backoff, retry)
    assert backoff.initial <= top <= backoff.max
    if backoff.jitter == "full":
        assert 0 <= delay <= top
    elif backoff.jitter == "equal":
        assert top / 2 <= delay <= top
    elif backoff.jitter == "none":
        assert delay == top
    else:  # decorrelated: drawn up to three times the previous delay
        last = backoff.initial if previous is None else max(previous, backoff.initial)
        assert backoff.initial <= delay <= min(backoff.max, 3 * last)


def test_ceiling_grows_geometrically_then_caps() -> None:
    backoff = Backoff(initial=0.1, multiplier=2, max=1.0, jitter="none")
    assert [round(ceiling(backoff, n), 6) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_decorrelated_grows_from_the_previous_delay() -> None:
    backoff = Backoff(initial=1, max=1000, jitter="decorrelated")
    rng = random.Random(7)
    delays = [next_delay(backoff, 0, None, rng)]
    for n in range(1, 6):
        delays.append(next_delay(backoff, n, delays[-1], rng))
    for before, after in zip(delays, delays[1:]):
        assert 1 <= after <= before * 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Tue, 14 Nov 2023 22:13:40 GMT", 20.0),  # wall clock below is 22:13:20
        ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        (None, None),
        ("999999999", 86400.0),  # capped
    ],
)
def test_retry_after_reads_seconds_and_dates(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, wall_now=1_700_000_000.0) == expected
