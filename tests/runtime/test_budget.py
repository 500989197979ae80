"""The retry budget: a ratio of requests plus a floor, over a sliding window."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall_runtime import BudgetPolicy, FakeClock, RetryBudget


def test_floor_lets_a_quiet_client_retry(clock: FakeClock) -> None:
    budget = RetryBudget(BudgetPolicy(ratio=0.2, floor=3, window=10), clock)
    budget.record_request()
    assert [budget.try_retry() for _ in range(4)] == [True, True, True, False]


def test_ratio_of_requests_adds_to_the_floor(clock: FakeClock) -> None:
    budget = RetryBudget(BudgetPolicy(ratio=0.2, floor=0, window=10), clock)
    for _ in range(10):
        budget.record_request()
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
    assert budget.counts() == (10, 2)


def test_window_slides(clock: FakeClock) -> None:
    budget = RetryBudget(BudgetPolicy(ratio=0.0, floor=1, window=10), clock)
    assert budget.try_retry() and not budget.try_retry()
    clock.advance(9.9)
    assert not budget.try_retry()
    clock.advance(0.1)
    assert budget.try_retry()


@settings(max_examples=200, deadline=None)  # no timing limit on a loaded machine
@given(
    st.lists(st.tuples(st.floats(0, 3), st.sampled_from(["request", "retry"])), max_size=200),
    st.floats(0, 1),
    st.integers(0, 5),
)
def test_retries_never_exceed_ratio_plus_floor_over_any_window(
    events: list[tuple[float, str]], ratio: float, floor: int
) -> None:
    clock = FakeClock()
    window = 10.0
    budget = RetryBudget(BudgetPolicy(ratio=ratio, floor=floor, window=window), clock)
    requests: list[float] = []
    retries: list[float] = []
    for gap, kind in events:
        clock.advance(gap)
        now = clock.now()
        if kind == "request":
            budget.record_request()
            requests.append(now)
        elif budget.try_retry():
            retries.append(now)
    # Any window that ends at a granted retry: retries in it <= floor + ratio x requests.
    for end in retries:

        def inside(times: list[float]) -> int:
            return sum(1 for t in times if end - window < t <= end)

        assert inside(retries) <= floor + ratio * inside(requests)
