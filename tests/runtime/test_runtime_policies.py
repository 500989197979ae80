"""Policies reject bad values at construction, naming the field."""

from __future__ import annotations

import pytest

from seawall_runtime import (
    MISSING,
    Backoff,
    BreakerPolicy,
    BudgetPolicy,
    FallbackPolicy,
    Operation,
    Policy,
    RetryPolicy,
    TimeoutPolicy,
)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: TimeoutPolicy(attempt=-1), "TimeoutPolicy.attempt"),
        (lambda: TimeoutPolicy(total=0), "TimeoutPolicy.total"),
        (lambda: TimeoutPolicy(connect=float("inf")), "TimeoutPolicy.connect"),
        (lambda: TimeoutPolicy(attempt=5, total=2), "TimeoutPolicy.attempt"),
        (lambda: RetryPolicy(attempts=0), "RetryPolicy.attempts"),
        (lambda: RetryPolicy(attempts=11), "RetryPolicy.attempts"),
        (lambda: RetryPolicy(attempts=True), "RetryPolicy.attempts"),
        (lambda: RetryPolicy(on=frozenset({"bogus"})), "RetryPolicy.on"),
        (lambda: RetryPolicy(on=frozenset({700})), "RetryPolicy.on"),
        (lambda: RetryPolicy(on=503), "RetryPolicy.on"),  # type: ignore[arg-type]
        (lambda: Backoff(initial=0), "Backoff.initial"),
        (lambda: Backoff(multiplier=0.5), "Backoff.multiplier"),
        (lambda: Backoff(initial=2, max=1), "Backoff.max"),
        (lambda: Backoff(jitter="some"), "Backoff.jitter"),  # type: ignore[arg-type]
        (lambda: BreakerPolicy(failure_ratio=0), "BreakerPolicy.failure_ratio"),
        (lambda: BreakerPolicy(failure_ratio=1.5), "BreakerPolicy.failure_ratio"),
        (lambda: BreakerPolicy(minimum_calls=0), "BreakerPolicy.minimum_calls"),
        (lambda: BreakerPolicy(half_open_probes=0), "BreakerPolicy.half_open_probes"),
        (lambda: BudgetPolicy(ratio=-0.1), "BudgetPolicy.ratio"),
        (lambda: BudgetPolicy(floor=-1), "BudgetPolicy.floor"),
        (lambda: BudgetPolicy(window=0), "BudgetPolicy.window"),
        (lambda: FallbackPolicy(on=frozenset(), value=1), "FallbackPolicy.on"),
        (lambda: FallbackPolicy(on=frozenset({"nope"}), value=1), "FallbackPolicy.on"),
        (lambda: Operation("x", "GET /", "/"), "Operation.method"),
        (lambda: Operation("x", "POST", "/", idempotency_key_header="Bad Header"), "Operation"),
    ],
)
def test_bad_values_name_the_field(make: object, field: str) -> None:
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        make()  # type: ignore[operator]


def test_fallback_needs_exactly_one_answer() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        FallbackPolicy(on=frozenset({"exhausted"}))
    with pytest.raises(ValueError, match="exactly one"):
        FallbackPolicy(on=frozenset({"exhausted"}), value=1, factory=lambda cause: 2)


def test_fallback_value_may_be_none_and_factory_gets_the_cause() -> None:
    assert FallbackPolicy(on=frozenset({503}), value=None).answer(ValueError()) is None
    policy = FallbackPolicy(on=frozenset({"5XX"}), factory=lambda cause: type(cause).__name__)
    assert policy.answer(KeyError()) == "KeyError"
    assert repr(MISSING) == "MISSING"


def test_defaults_follow_the_issue() -> None:
    retry = RetryPolicy()
    assert retry.attempts == 3
    assert retry.on == {"connection-error", "timeout", "reset", 408, 429, 500, 502, 503, 504}
    assert retry.backoff.jitter == "full"
    assert BudgetPolicy().ratio == 0.2 and BudgetPolicy().window == 10.0


def test_policies_are_immutable_and_merge_per_call() -> None:
    base = Policy(timeout=TimeoutPolicy(total=5))
    with pytest.raises(AttributeError):
        base.retry = None  # type: ignore[misc]
    call = base.merged(retry=None)
    assert call.retry is None and call.timeout == base.timeout
    assert base.retry == RetryPolicy()
    assert base.merged() == base


def test_operation_idempotency_by_method_flag_and_key() -> None:
    assert Operation("get", "get", "/").is_idempotent()
    assert Operation("put", "PUT", "/").method == "PUT"
    assert not Operation("post", "POST", "/").is_idempotent()
    assert Operation("post", "POST", "/").is_idempotent(has_key=True)
    assert Operation("post", "POST", "/", idempotent=True).is_idempotent()
    assert not Operation("del", "DELETE", "/", idempotent=False).is_idempotent()
