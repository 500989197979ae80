"""The retry loop's decisions, driven through the sync client over an
in-process transport on a fake clock (no sleeps, no network)."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest

from seawall_runtime import (
    Backoff,
    BreakerPolicy,
    BudgetExhausted,
    BudgetPolicy,
    CallController,
    CircuitBreaker,
    CircuitOpen,
    ConnectError,
    ConnectionReset,
    DeadlineExceeded,
    Fail,
    FakeClock,
    FallbackPolicy,
    Hooks,
    Operation,
    Policy,
    RequestTimeout,
    ResilientClient,
    RetriesExhausted,
    RetryPolicy,
    TimeoutPolicy,
)

from runtime_script import Script, Step

FIXED = Backoff(initial=0.5, multiplier=2, max=4, jitter="none")


def client(
    script: Script,
    clock: FakeClock,
    policy: Policy | None = None,
    **options: object,
) -> ResilientClient:
    options.setdefault("breaker", None)
    options.setdefault("budget", None)
    return ResilientClient(
        "http://api.test",
        transport=script.transport,
        policy=policy or Policy(retry=RetryPolicy(backoff=FIXED)),
        clock=clock,
        random=random.Random(1),
        **options,  # type: ignore[arg-type]
    )


def run(
    steps: list[Step], clock: FakeClock, method: str = "GET", **kw: object
) -> tuple[Script, object]:
    script = Script(steps, clock)
    policy = kw.pop("policy", None)
    outcome = client(script, clock, policy).request(method, "/r", **kw)  # type: ignore[arg-type]
    return script, outcome


def test_retries_503_with_backoff_then_answers(clock: FakeClock) -> None:
    script = Script([503, 502, 200], clock)
    outcome = client(script, clock).request("GET", "/r")
    assert outcome.status == 200 and len(script.requests) == 3
    assert clock.sleeps == [0.5, 1.0]
    assert [(a.status, a.retry_delay) for a in outcome.attempts] == [
        (503, 0.5),
        (502, 1.0),
        (200, None),
    ]


def test_last_failing_response_is_returned_when_attempts_run_out(clock: FakeClock) -> None:
    script = Script([503], clock)
    outcome = client(script, clock).request("GET", "/r")
    assert outcome.status == 503 and outcome.stop_reason == "attempts"
    assert len(script.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404, 409, 501])
def test_statuses_not_listed_are_answers(clock: FakeClock, status: int) -> None:
    script = Script([status], clock)
    outcome = client(script, clock).request("GET", "/r")
    assert outcome.status == status and len(script.requests) == 1


def test_post_is_never_repeated_after_it_may_have_been_sent(clock: FakeClock) -> None:
    for failure in (503, httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")):
        script = Script([failure, 200], clock)
        try:
            outcome = client(script, clock).request("POST", "/r", content=b"x")
        except (RequestTimeout, ConnectionReset) as error:
            assert error.attempts[0].error is not None
        else:
            assert outcome.status == 503
        assert len(script.requests) == 1


def test_connection_refused_is_retried_even_for_post(clock: FakeClock) -> None:
    script = Script([httpx.ConnectError("refused"), 201], clock)
    outcome = client(script, clock).request("POST", "/r", content=b"x")
    assert outcome.status == 201 and len(script.requests) == 2


def test_post_marked_idempotent_or_keyed_is_retried(clock: FakeClock) -> None:
    marked = Operation("create", "POST", "/r", idempotent=True)
    script = Script([503, 200], clock)
    assert client(script, clock).request("POST", "/r", operation=marked).status == 200
    keyed = Operation("create", "POST", "/r", idempotency_key_header="Idempotency-Key")
    script = Script([httpx.ReadTimeout("slow"), 200], clock)
    outcome = client(script, clock).request("POST", "/r", operation=keyed)
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert outcome.status == 200 and keys == {outcome.idempotency_key}
    assert uuid.UUID(outcome.idempotency_key or "").version == 4


def test_callers_key_is_used_and_reported_on_errors(clock: FakeClock) -> None:
    keyed = Operation("create", "POST", "/r", idempotency_key_header="X-Key")
    script = Script([httpx.ConnectError("refused")], clock)
    with pytest.raises(RetriesExhausted) as caught:
        client(script, clock).request("POST", "/r", operation=keyed, idempotency_key="k-1")
    assert caught.value.idempotency_key == "k-1"
    assert [r.headers["X-Key"] for r in script.requests] == ["k-1"] * 3
    assert isinstance(caught.value.last_error, ConnectError)
    assert isinstance(caught.value.__cause__, ConnectError)
    assert [a.retry_delay for a in caught.value.attempts] == [0.5, 1.0, None]
    assert "3 attempts" in str(caught.value) and "create" in str(caught.value)


def test_retry_after_seconds_and_date_are_honoured(clock: FakeClock) -> None:
    date = "Tue, 14 Nov 2023 22:30:13 GMT"  # wall time 1_700_001_013
    script = Script(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": date}),
            200,
        ],
        clock,
    )
    outcome = client(script, clock).request("GET", "/r")
    assert outcome.status == 200
    # The fake wall clock reads 1_700_001_003 after the first 3 s wait.
    assert clock.sleeps == [3.0, 10.0]


def test_retry_after_past_the_deadline_stops_with_the_hint(clock: FakeClock) -> None:
    policy = Policy(timeout=TimeoutPolicy(total=10), retry=RetryPolicy(backoff=FIXED))
    script = Script([httpx.Response(503, headers={"Retry-After": "30"})], clock)
    with pytest.raises(DeadlineExceeded) as caught:
        client(script, clock, policy).request("GET", "/r")
    assert caught.value.retry_after == 30.0 and clock.sleeps == []
    assert "Retry-After" in str(caught.value)


def test_retry_after_past_the_policys_limit_returns_at_once(clock: FakeClock) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "3600"}), 200], clock)
    outcome = client(script, clock).request("GET", "/r")  # no total deadline: only the limit
    assert outcome.status == 429 and outcome.stop_reason == "retry-after"
    assert outcome.response is not None and outcome.response.headers["Retry-After"] == "3600"
    assert clock.sleeps == [] and len(script.requests) == 1


def test_a_hint_past_both_the_deadline_and_the_limit_is_a_deadline_error(clock: FakeClock) -> None:
    policy = Policy(timeout=TimeoutPolicy(total=10), retry=RetryPolicy(backoff=FIXED))
    script = Script([httpx.Response(503, headers={"Retry-After": "3600"})], clock)
    with pytest.raises(DeadlineExceeded) as caught:
        client(script, clock, policy).request("GET", "/r")
    assert caught.value.retry_after == 3600.0 and clock.sleeps == []


def test_a_hint_past_the_limit_falls_back_as_exhausted_retries(clock: FakeClock) -> None:
    fallback = FallbackPolicy(on=frozenset({"exhausted"}), value="cached")
    policy = Policy(retry=RetryPolicy(backoff=FIXED), fallback=fallback)
    script = Script([httpx.Response(429, headers={"Retry-After": "3600"})], clock)
    outcome = client(script, clock, policy).request("GET", "/r")
    assert outcome.from_fallback and outcome.fallback_value == "cached"
    assert outcome.stop_reason == "retry-after" and len(script.requests) == 1


def test_a_retryable_status_the_request_may_not_repeat_is_not_retryable(clock: FakeClock) -> None:
    script = Script([503], clock)
    outcome = client(script, clock).request("POST", "/r", content=b"x")
    assert (outcome.status, outcome.stop_reason) == (503, "not-retryable")
    fallback = FallbackPolicy(on=frozenset({503}), value="cached")
    policy = Policy(retry=RetryPolicy(backoff=FIXED), fallback=fallback)
    outcome = client(Script([503], clock), clock, policy).request("POST", "/r", content=b"x")
    assert outcome.from_fallback and outcome.stop_reason == "not-retryable"
    plain = client(Script([404], clock), clock).request("POST", "/r", content=b"x")
    assert plain.stop_reason == "answered"  # not a retry condition at all


def test_retry_after_limit_can_be_raised_or_lifted(clock: FakeClock) -> None:
    for limit in (7200.0, None):
        policy = Policy(retry=RetryPolicy(backoff=FIXED, max_retry_after=limit))
        script = Script([httpx.Response(503, headers={"Retry-After": "3600"}), 200], clock)
        assert client(script, clock, policy).request("GET", "/r").status == 200
    assert clock.sleeps == [3600.0, 3600.0]


@pytest.mark.parametrize("limit", [0, -1.0, float("inf"), "60"])
def test_retry_after_limit_must_be_a_positive_number(limit: object) -> None:
    with pytest.raises(ValueError, match="RetryPolicy.max_retry_after must be a"):
        RetryPolicy(max_retry_after=limit)  # type: ignore[arg-type]


def test_attempt_timeout_is_clamped_to_the_deadline(clock: FakeClock) -> None:
    seen: list[object] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow")

    policy = Policy(
        timeout=TimeoutPolicy(connect=1, attempt=4, total=6), retry=RetryPolicy(backoff=FIXED)
    )
    script = Script([answer], clock, cost=4.0)
    with pytest.raises(DeadlineExceeded):
        client(script, clock, policy).request("GET", "/r")
    assert seen == [
        {"connect": 1, "read": 4, "write": 4, "pool": 4},
        {"connect": 1, "read": 1.5, "write": 1.5, "pool": 1.5},
    ]


def test_budget_spent_returns_the_failure_at_once(clock: FakeClock) -> None:
    script = Script([503], clock)
    spent: list[object] = []
    c = client(
        script,
        clock,
        budget=BudgetPolicy(ratio=0, floor=1),
        hooks=Hooks(on_budget_exhausted=spent.append),
    )
    first = c.request("GET", "/r")
    assert first.stop_reason == "budget" and len(first.attempts) == 2
    script.steps = [httpx.ConnectError("refused")]
    with pytest.raises(BudgetExhausted) as caught:
        c.request("GET", "/r")
    assert len(caught.value.attempts) == 1 and len(spent) == 2


def test_open_circuit_fails_fast_without_the_network(clock: FakeClock) -> None:
    script = Script([500], clock)
    changes: list[object] = []
    c = client(
        script,
        clock,
        policy=Policy(retry=None),
        breaker=BreakerPolicy(minimum_calls=2, open_for=5),
        hooks=Hooks(on_breaker_change=changes.append),
    )
    c.request("GET", "/r")
    c.request("GET", "/r")
    with pytest.raises(CircuitOpen) as caught:
        c.request("GET", "/r")
    assert len(script.requests) == 2 and caught.value.retry_in == 5
    assert [(e.old, e.new) for e in changes] == [("closed", "open")]  # type: ignore[attr-defined]


def test_call_refused_while_a_probe_is_in_flight_says_so(clock: FakeClock) -> None:
    breaker = CircuitBreaker(BreakerPolicy(minimum_calls=1, open_for=5), clock, "http://h:80")
    tripping = breaker.acquire()
    assert tripping is not None
    breaker.record(tripping, failed=True)
    clock.advance(5)
    probe = breaker.acquire()
    assert probe is not None and probe.probe
    controller = CallController(
        label="getThing",
        idempotent=True,
        policy=Policy(),
        clock=clock,
        rng=random.Random(0),
        breaker=breaker,
    )
    action = controller.start()
    assert isinstance(action, Fail) and isinstance(action.error, CircuitOpen)
    assert action.error.retry_in == 0
    assert str(action.error) == (
        "getThing: circuit half-open for http://h:80; calls fail fast while a probe is in flight"
    )


def test_open_circuit_message_counts_down(clock: FakeClock) -> None:
    c = client(
        Script([500], clock),
        clock,
        policy=Policy(retry=None),
        breaker=BreakerPolicy(minimum_calls=1, open_for=5),
    )
    c.request("GET", "/r")
    clock.advance(2)
    with pytest.raises(CircuitOpen, match=r"circuit open for http://api\.test:80; .* another 3s"):
        c.request("GET", "/r")


def test_open_circuit_stops_retrying(clock: FakeClock) -> None:
    script = Script([503], clock)
    c = client(script, clock, breaker=BreakerPolicy(minimum_calls=2))
    with pytest.raises(CircuitOpen) as caught:
        c.request("GET", "/r")
    assert len(script.requests) == 2 and len(caught.value.attempts) == 2


@pytest.mark.parametrize(
    ("steps", "on", "trigger", "cause_type"),
    [
        ([503], {"exhausted"}, "exhausted", httpx.Response),
        ([503], {"5XX"}, "503", httpx.Response),
        ([httpx.ConnectError("x")], {"connection-error"}, "connection-error", ConnectError),
        ([httpx.ReadTimeout("x")], {"timeout"}, "timeout", RequestTimeout),
    ],
)
def test_fallback_answers_listed_failures(
    clock: FakeClock, steps: list[Step], on: set[str | int], trigger: str, cause_type: type
) -> None:
    used: list[object] = []
    causes: list[BaseException | httpx.Response] = []

    def factory(cause: BaseException | httpx.Response) -> str:
        causes.append(cause)
        return "cached"

    fallback = FallbackPolicy(on=frozenset(on), factory=factory)
    policy = Policy(retry=RetryPolicy(backoff=FIXED), fallback=fallback)
    c = client(Script(steps, clock), clock, policy, hooks=Hooks(on_fallback=used.append))
    outcome = c.request("GET", "/r")
    assert outcome.from_fallback and outcome.response is None
    assert outcome.fallback_value == "cached"
    assert outcome.stop_reason == "attempts"  # why the call stopped, not "answered"
    assert [e.reason for e in used] == [trigger]  # type: ignore[attr-defined]
    [cause] = causes
    if isinstance(cause, httpx.Response):
        assert cause_type is httpx.Response and cause.status_code == 503
    else:
        # Every attempt failed: the factory gets the summary, the last attempt's error inside.
        assert isinstance(cause, RetriesExhausted) and isinstance(cause.last_error, cause_type)
        assert len(cause.attempts) == 3


def test_fallback_is_not_used_for_unlisted_failures(clock: FakeClock) -> None:
    policy = Policy(retry=None, fallback=FallbackPolicy(on=frozenset({"circuit-open"}), value=0))
    outcome = client(Script([503], clock), clock, policy).request("GET", "/r")
    assert not outcome.from_fallback and outcome.status == 503


def test_fallback_on_open_circuit(clock: FakeClock) -> None:
    policy = Policy(retry=None, fallback=FallbackPolicy(on=frozenset({"circuit-open"}), value=[]))
    c = client(Script([500], clock), clock, policy, breaker=BreakerPolicy(minimum_calls=1))
    assert c.request("GET", "/r").status == 500
    outcome = c.request("GET", "/r")
    assert outcome.from_fallback and outcome.fallback_value == []
    assert outcome.stop_reason == "circuit-open"


def test_call_policy_beats_operation_policy_beats_client(clock: FakeClock) -> None:
    script = Script([503], clock)
    c = client(script, clock, Policy(retry=RetryPolicy(attempts=4, backoff=FIXED)))
    op = Operation("op", "GET", "/r", policy=Policy(retry=RetryPolicy(attempts=2, backoff=FIXED)))
    assert len(c.request("GET", "/r").attempts) == 4
    assert len(c.request("GET", "/r", operation=op).attempts) == 2
    assert len(c.request("GET", "/r", operation=op, policy=Policy(retry=None)).attempts) == 1


def test_hooks_see_every_attempt_and_a_broken_hook_is_ignored(clock: FakeClock) -> None:
    events: list[str] = []

    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    hooks = Hooks(
        on_attempt_start=lambda e: events.append(f"start {e.attempt}"),
        on_attempt_end=lambda e: events.append(f"end {e.attempt} {e.status}"),
        on_retry=lambda e: events.append(f"retry {e.delay}"),
        on_fallback=broken,
    )
    policy = Policy(
        retry=RetryPolicy(attempts=2, backoff=FIXED),
        fallback=FallbackPolicy(on=frozenset({"exhausted"}), value="v"),
    )
    outcome = client(Script([503], clock), clock, policy, hooks=hooks).request("GET", "/r")
    assert outcome.fallback_value == "v"
    assert events == ["start 1", "end 1 503", "retry 0.5", "start 2", "end 2 503"]


def test_controller_refuses_misuse(clock: FakeClock) -> None:
    controller = CallController(
        label="x", idempotent=True, policy=Policy(), clock=clock, rng=random.Random(0)
    )
    with pytest.raises(RuntimeError, match="out of order"):
        controller.resume()


def test_total_outage_load_stays_near_the_budget_ratio(clock: FakeClock) -> None:
    script = Script([503], clock)
    tiny = Backoff(initial=0.001, max=0.001, jitter="none")
    policy = Policy(retry=RetryPolicy(attempts=5, backoff=tiny))
    c = client(script, clock, policy, budget=BudgetPolicy(ratio=0.2, floor=10, window=10))
    calls = 1000
    for _ in range(calls):
        c.request("GET", "/r")
        clock.advance(0.05)  # 20 calls a second, over 50 seconds
    # Without a budget this would be 5000 requests; each 10 s window allows
    # 10 + 20% of its calls in retries.
    windows = 1000 * 0.054 / 10 + 1
    assert len(script.requests) <= calls * 1.2 + 10 * windows
    assert len(script.requests) > calls * 1.1  # retries did happen


def test_breaker_per_operation_isolates_operations(clock: FakeClock) -> None:
    script = Script([500], clock)
    c = client(
        script,
        clock,
        Policy(retry=None),
        breaker=BreakerPolicy(minimum_calls=1, per_operation=True),
    )
    c.request("GET", "/r", operation=Operation("a", "GET", "/r"))
    with pytest.raises(CircuitOpen, match="api.test:80 a"):
        c.request("GET", "/r", operation=Operation("a", "GET", "/r"))
    assert c.request("GET", "/r", operation=Operation("b", "GET", "/r")).status == 500


def test_fallback_on_deadline_and_budget(clock: FakeClock) -> None:
    slow = Policy(
        timeout=TimeoutPolicy(total=1),
        retry=RetryPolicy(backoff=FIXED),
        fallback=FallbackPolicy(on=frozenset({"deadline"}), value="late"),
    )
    outcome = client(Script([httpx.ReadTimeout("x")], clock, cost=2), clock, slow).request(
        "GET", "/r"
    )
    assert outcome.fallback_value == "late"
    spent = Policy(
        retry=RetryPolicy(backoff=FIXED),
        fallback=FallbackPolicy(on=frozenset({"budget"}), value="spent"),
    )
    c = client(Script([503], clock), clock, spent, budget=BudgetPolicy(ratio=0, floor=0))
    assert c.request("GET", "/r").fallback_value == "spent"


def test_callers_key_without_a_declared_header_goes_in_idempotency_key(clock: FakeClock) -> None:
    script = Script([503, 200], clock)
    outcome = client(script, clock).request("POST", "/r", idempotency_key="abc")
    assert outcome.status == 200 and outcome.idempotency_key == "abc"
    assert [r.headers["Idempotency-Key"] for r in script.requests] == ["abc", "abc"]


def test_key_already_on_the_request_is_kept(clock: FakeClock) -> None:
    keyed = Operation("create", "POST", "/r", idempotency_key_header="X-Key")
    script = Script([200], clock)
    outcome = client(script, clock).request(
        "POST", "/r", operation=keyed, headers={"X-Key": "mine"}
    )
    assert outcome.idempotency_key == "mine" and script.requests[0].headers["X-Key"] == "mine"
