"""Invariants of the sans-I/O retry loop, driven directly with random failures."""

from __future__ import annotations

import random

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall_runtime import (
    Backoff,
    CallController,
    ConnectError,
    DeadlineExceeded,
    Fail,
    FakeClock,
    Finish,
    Policy,
    RequestTimeout,
    RetryPolicy,
    Send,
    Sleep,
    TimeoutPolicy,
)
from seawall_runtime.backoff import ceiling

answers = st.one_of(
    st.sampled_from([200, 404, 429, 500, 503]),
    st.tuples(st.sampled_from([429, 503]), st.integers(0, 30)),  # with Retry-After
    st.sampled_from(["connect", "timeout"]),
)


@settings(max_examples=300, deadline=None)  # pure logic; no timing limit on a loaded machine
@given(
    st.lists(answers, min_size=1, max_size=12),
    st.lists(st.floats(0, 5), min_size=1, max_size=12),
    st.integers(1, 10),
    st.none() | st.floats(1, 60),
    st.booleans(),
)
def test_loop_respects_attempts_deadline_and_backoff(
    script: list[object], costs: list[float], attempts: int, total: float | None, idempotent: bool
) -> None:
    clock = FakeClock()
    backoff = Backoff(initial=0.1, max=2.0, jitter="full")
    policy = Policy(
        timeout=TimeoutPolicy(total=total), retry=RetryPolicy(attempts=attempts, backoff=backoff)
    )
    controller = CallController(
        label="op", idempotent=idempotent, policy=policy, clock=clock, rng=random.Random(0)
    )
    started = clock.now()
    action = controller.start()
    sends = 0
    while isinstance(action, (Send, Sleep)):
        if isinstance(action, Sleep):
            hints = [a for a in script[:sends] if isinstance(a, tuple)]
            assert action.seconds <= max([ceiling(backoff, sends - 1)] + [h[1] for h in hints])
            clock.sleep(action.seconds)
            action = controller.resume()
            continue
        sends += 1
        if total is not None:
            assert action.timeout is not None
            assert clock.now() + action.timeout <= started + total + 1e-9
        answer = script[min(sends - 1, len(script) - 1)]
        clock.advance(costs[min(sends - 1, len(costs) - 1)])
        if answer == "connect":
            action = controller.on_error(ConnectError("refused"))
        elif answer == "timeout":
            action = controller.on_error(RequestTimeout("slow"))
        else:
            status, after = answer if isinstance(answer, tuple) else (answer, None)
            headers = {"Retry-After": str(after)} if after is not None else {}
            action = controller.on_response(httpx.Response(int(status), headers=headers))
    assert 1 <= sends <= attempts
    assert len(controller.attempts) == sends
    if total is not None:
        slept = sum(clock.sleeps)
        assert slept < total  # never sleeps into the deadline
    if isinstance(action, Fail) and isinstance(action.error, DeadlineExceeded):
        assert total is not None
    if not idempotent:
        # Only refused connections (never sent) may be followed by another attempt.
        for earlier in script[: sends - 1]:
            assert earlier == "connect"
    assert isinstance(action, (Finish, Fail))
