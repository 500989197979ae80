"""The circuit breaker's state machine, on a fake clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall_runtime import BreakerPolicy, CircuitBreaker, FakeClock
from seawall_runtime.breaker import WINDOW_BUCKETS, counts_as_failure


def make(clock: FakeClock, **fields: object) -> tuple[CircuitBreaker, list[tuple[str, str]]]:
    changes: list[tuple[str, str]] = []
    policy = BreakerPolicy(**{"minimum_calls": 4, "window": 10, "open_for": 5, **fields})  # type: ignore[arg-type]
    breaker = CircuitBreaker(policy, clock, "h", lambda key, old, new: changes.append((old, new)))
    return breaker, changes


def state(breaker: CircuitBreaker) -> str:
    """The state, read afresh (mypy would otherwise narrow the property)."""
    return breaker.state


def call(breaker: CircuitBreaker, failed: bool) -> bool:
    permit = breaker.acquire()
    if permit is None:
        return False
    breaker.record(permit, failed=failed)
    return True


def test_trips_only_after_minimum_calls(clock: FakeClock) -> None:
    breaker, changes = make(clock)
    for _ in range(3):
        call(breaker, failed=True)
    assert state(breaker) == "closed"
    call(breaker, failed=True)
    assert state(breaker) == "open" and changes == [("closed", "open")]
    assert breaker.acquire() is None
    assert breaker.retry_in() == 5


def test_ratio_below_threshold_stays_closed(clock: FakeClock) -> None:
    breaker, _ = make(clock, failure_ratio=0.5)
    for failed in [True, False, False, False, True, False, False, True]:
        call(breaker, failed)
    assert state(breaker) == "closed"
    assert breaker.counts() == (8, 3)


def test_old_calls_leave_the_window(clock: FakeClock) -> None:
    breaker, _ = make(clock)
    for _ in range(3):
        call(breaker, failed=True)
    clock.advance(10)
    call(breaker, failed=True)
    assert state(breaker) == "closed" and breaker.counts() == (1, 1)


def test_a_call_leaves_the_window_with_its_time_bucket(clock: FakeClock) -> None:
    breaker, _ = make(clock)  # window 10 s: 20 buckets of 0.5 s
    clock.advance(0.49)  # late in its bucket, which started at 1000.0
    call(breaker, failed=True)
    clock.advance(9.5)  # 9.5 s later: its bucket is still among the last 20
    assert breaker.counts() == (1, 1)
    clock.advance(0.01)  # the 21st bucket starts: 9.51 s after the call
    assert breaker.counts() == (0, 0)


def test_the_window_keeps_counts_not_calls(clock: FakeClock) -> None:
    breaker, _ = make(clock, minimum_calls=100_000)
    for _ in range(10_000):
        clock.advance(0.01)
        call(breaker, failed=False)
    assert breaker.counts() == (1_000, 0)  # the last 10 s: 20 buckets of 50 calls
    assert len(breaker._buckets) == WINDOW_BUCKETS  # memory does not grow with the calls


def test_half_open_success_closes_and_failure_reopens(clock: FakeClock) -> None:
    breaker, changes = make(clock, half_open_probes=2)
    for _ in range(4):
        call(breaker, failed=True)
    clock.advance(5)
    assert state(breaker) == "half-open"
    first, second = breaker.acquire(), breaker.acquire()
    assert first is not None and second is not None and first.probe
    assert breaker.acquire() is None  # only two probes at once
    breaker.record(first, failed=True)
    assert state(breaker) == "open"
    breaker.record(second, failed=False)  # a probe of the old generation: ignored
    assert state(breaker) == "open"
    clock.advance(5)
    assert call(breaker, failed=False)
    assert state(breaker) == "closed"
    assert changes == [
        ("closed", "open"),
        ("open", "half-open"),
        ("half-open", "open"),
        ("open", "half-open"),
        ("half-open", "closed"),
    ]


def test_released_probe_frees_its_slot(clock: FakeClock) -> None:
    breaker, _ = make(clock)
    for _ in range(4):
        call(breaker, failed=True)
    clock.advance(5)
    probe = breaker.acquire()
    assert probe is not None and breaker.acquire() is None
    breaker.release(probe)
    assert breaker.acquire() is not None


def test_late_result_from_before_opening_is_ignored(clock: FakeClock) -> None:
    breaker, _ = make(clock)
    slow = breaker.acquire()
    assert slow is not None
    for _ in range(4):
        call(breaker, failed=True)
    clock.advance(5)
    breaker.record(slow, failed=False)
    assert state(breaker) == "half-open"


def test_failure_statuses() -> None:
    assert [s for s in (200, 302, 400, 404, 408, 429, 500, 503) if counts_as_failure(s)] == [
        408,
        429,
        500,
        503,
    ]


class Model:
    """A plain reference model of the breaker, replayed step by step."""

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self.state = "closed"
        self.calls: list[tuple[float, bool]] = []
        self.opened_at = 0.0

    def call(self, now: float, failed: bool) -> bool:
        if self.state == "open":
            if now < self.opened_at + self.policy.open_for:
                return False
            self.state = "half-open"
        if self.state == "half-open":
            self.state, self.opened_at = ("open", now) if failed else ("closed", 0.0)
            self.calls = []
            return True
        # A call counts while its time bucket is one of the last WINDOW_BUCKETS.
        width = self.policy.window / WINDOW_BUCKETS
        oldest = now // width - (WINDOW_BUCKETS - 1)
        self.calls = [c for c in self.calls if c[0] // width >= oldest]
        self.calls.append((now, failed))
        failures = sum(f for _, f in self.calls)
        if len(self.calls) >= self.policy.minimum_calls and (
            failures >= self.policy.failure_ratio * len(self.calls)
        ):
            self.state, self.opened_at, self.calls = "open", now, []
        return True


@settings(max_examples=200, deadline=None)  # no timing limit on a loaded machine
@given(
    st.lists(st.tuples(st.floats(0, 4), st.booleans()), max_size=80),
    st.floats(0.1, 1),
    st.integers(1, 6),
)
def test_transitions_match_the_reference_model(
    steps: list[tuple[float, bool]], ratio: float, minimum: int
) -> None:
    clock = FakeClock()
    policy = BreakerPolicy(failure_ratio=ratio, minimum_calls=minimum, window=10, open_for=5)
    breaker = CircuitBreaker(policy, clock)
    model = Model(policy)
    for gap, failed in steps:
        clock.advance(gap)
        assert call(breaker, failed) == model.call(clock.now(), failed)
        assert state(breaker) == model.state or (
            model.state == "open" and state(breaker) == "half-open"
        )
