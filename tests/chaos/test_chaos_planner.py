"""The planner, with a fake clock: rates, latency, outages, matching, seeds."""

from __future__ import annotations

from collections import Counter

import pytest

from seawall.chaos import ErrorFault, FaultSet, Outage, Plan, Planner, RoutePattern, Rule


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def planner(*rules: Rule, seed: int = 7, clock: FakeClock | None = None) -> Planner:
    return Planner(FaultSet(rules=rules, seed=seed), clock=clock or FakeClock())


def actions(p: Planner, n: int, method: str = "GET", path: str = "/x") -> Counter[str]:
    return Counter(p.plan(method, path).action for _ in range(n))


def test_no_rules_forwards_everything() -> None:
    p = Planner(FaultSet(), clock=FakeClock())
    assert {p.plan("GET", "/a") for _ in range(50)} == {Plan()}


def test_rates_converge_for_a_seeded_sequence() -> None:
    rule = Rule(errors=(ErrorFault(503, 0.2), ErrorFault(500, 0.1)), reset=0.05, hang=0.05, lost=0.1)
    counts = actions(planner(rule), 20_000)
    assert counts["error"] / 20_000 == pytest.approx(0.3, abs=0.015)
    for action, rate in [("reset", 0.05), ("hang", 0.05), ("lost", 0.1), ("forward", 0.5)]:
        assert counts[action] / 20_000 == pytest.approx(rate, abs=0.015), action


def test_error_statuses_split_by_their_rates_and_carry_retry_after() -> None:
    rule = Rule(errors=(ErrorFault(503, 0.3), ErrorFault(429, 0.1)), retry_after=2)
    p = planner(rule)
    plans = [p.plan("GET", "/x") for _ in range(10_000)]
    statuses = Counter(plan.status for plan in plans if plan.action == "error")
    assert statuses[503] / 10_000 == pytest.approx(0.3, abs=0.02)
    assert statuses[429] / 10_000 == pytest.approx(0.1, abs=0.02)
    assert {plan.retry_after for plan in plans if plan.action == "error"} == {2}


def test_rate_one_always_applies_and_rate_zero_never() -> None:
    assert actions(planner(Rule(reset=1.0)), 200) == Counter(reset=200)
    assert actions(planner(Rule(reset=0.0, lost=0.0)), 200) == Counter(forward=200)


def test_latency_is_fixed_plus_uniform_jitter() -> None:
    p = planner(Rule(latency=0.05, latency_jitter=0.02))
    delays = [p.plan("GET", "/x").delay for _ in range(2000)]
    assert all(0.05 <= d <= 0.07 for d in delays)
    assert max(delays) - min(delays) > 0.018  # spread over the jitter range
    fixed = planner(Rule(latency=0.1))
    assert {fixed.plan("GET", "/x").delay for _ in range(20)} == {0.1}


def test_same_seed_gives_the_same_sequence_and_another_seed_does_not() -> None:
    rule = Rule(errors=(ErrorFault(503, 0.3),), reset=0.2, latency_jitter=0.1)

    def sequence(seed: int) -> list[Plan]:
        p = planner(rule, seed=seed)
        return [p.plan("POST", "/orders") for _ in range(100)]

    assert sequence(42) == sequence(42)
    assert sequence(42) != sequence(43)


def test_setting_faults_restarts_the_sequence_from_the_seed() -> None:
    p = planner(Rule(reset=0.5), seed=3)
    first = [p.plan("GET", "/").action for _ in range(30)]
    p.set_faults(FaultSet(rules=(Rule(reset=0.5),), seed=3))
    assert [p.plan("GET", "/").action for _ in range(30)] == first


def test_outage_window_relative_to_start() -> None:
    clock = FakeClock()
    p = planner(Rule(outages=(Outage(10, 20, 503),)), clock=clock)
    clock.advance(9.99)
    assert p.plan("GET", "/").action == "forward"
    clock.advance(0.01)
    assert p.plan("GET", "/") == Plan("error", status=503)
    clock.advance(9.99)
    assert p.plan("GET", "/").action == "error"
    clock.advance(0.01)  # the end is excluded
    assert p.plan("GET", "/").action == "forward"


def test_outage_wins_over_rates_and_latency() -> None:
    clock = FakeClock()
    p = planner(Rule(latency=1.0, lost=1.0, outages=(Outage(0, 5, "reset"),)), clock=clock)
    assert p.plan("GET", "/") == Plan("reset")
    clock.advance(5)
    assert p.plan("GET", "/") == Plan("lost", delay=1.0)


def test_outage_now_fails_every_request_even_unmatched_ones() -> None:
    clock = FakeClock()
    p = planner(Rule(match=(RoutePattern.parse("/only"),)), clock=clock)
    clock.advance(100)
    outage = p.add_outage(3, 502)
    assert (outage.start, outage.end) == (100, 103)
    assert p.plan("GET", "/elsewhere") == Plan("error", status=502)
    clock.advance(3)
    assert p.plan("GET", "/elsewhere") == Plan()


def test_refuse_windows_drive_the_listener() -> None:
    clock = FakeClock()
    p = planner(Rule(outages=(Outage(10, 20, "refuse"),)), clock=clock)
    assert not p.refusing()
    assert p.next_listener_change() == 10
    clock.advance(12)
    assert p.refusing()
    assert p.next_listener_change() == pytest.approx(8)
    assert p.plan("GET", "/").action == "refuse"
    clock.advance(8)
    assert not p.refusing()
    assert p.next_listener_change() is None


def test_restart_moves_time_zero() -> None:
    clock = FakeClock()
    p = planner(Rule(outages=(Outage(0, 1, 500),)), clock=clock)
    clock.advance(5)
    assert p.plan("GET", "/").action == "forward"
    p.restart()
    assert p.plan("GET", "/").action == "error"


@pytest.mark.parametrize(
    ("pattern", "method", "path", "expected"),
    [
        ("POST /orders*", "POST", "/orders", True),
        ("POST /orders*", "POST", "/orders/1/items", True),
        ("POST /orders*", "GET", "/orders", False),
        ("post,put /orders/*", "PUT", "/orders/9", True),
        ("/pets/?", "DELETE", "/pets/1", True),
        ("/pets/?", "GET", "/pets/12", False),
        ("* /a", "PATCH", "/a", True),
    ],
)
def test_route_patterns(pattern: str, method: str, path: str, expected: bool) -> None:
    assert RoutePattern.parse(pattern).matches(method, path) is expected


def test_first_matching_rule_applies_and_others_pass() -> None:
    orders = Rule(match=(RoutePattern.parse("POST /orders*"),), reset=1.0)
    everything = Rule(errors=(ErrorFault(500, 1.0),))
    p = planner(orders, everything)
    assert p.plan("POST", "/orders/1").action == "reset"
    assert p.plan("GET", "/orders/1") == Plan("error", status=500)
    only_orders = planner(orders)
    assert only_orders.plan("GET", "/orders/1") == Plan()


def test_route_counters_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from seawall.chaos import state as state_module

    monkeypatch.setattr(state_module, "MAX_ROUTES", 2)
    state = state_module.ChaosState()
    for path in ["/a", "/b", "/c", "/a", "/d"]:
        state.plan("GET", path)
    assert state.stats().requests == {"GET /a": 2, "GET /b": 1, "(other)": 2}
    assert state.stats().received == 5
