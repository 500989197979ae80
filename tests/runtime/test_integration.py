"""The drivers against a real HTTP server on loopback that injects faults.

Every scenario runs through both the sync and the async client. Retry
delays go to a fake clock (recorded, not slept); timeouts are real but short.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

from fault_server import FaultServer, refused_url
from seawall_runtime import (
    AsyncResilientClient,
    Backoff,
    ConnectError,
    ConnectionReset,
    DeadlineExceeded,
    FakeClock,
    Operation,
    Outcome,
    Policy,
    RequestTimeout,
    ResilientClient,
    ResponseTooLarge,
    RetriesExhausted,
    RetryPolicy,
    SystemClock,
    TimeoutPolicy,
)

BACKOFF = Backoff(initial=0.01, max=0.05, jitter="none")
CALL_ARGS = ("operation", "policy", "idempotency_key", "content", "json")
POLICY = Policy(timeout=TimeoutPolicy(attempt=2), retry=RetryPolicy(backoff=BACKOFF))


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    running = FaultServer().start()
    yield running
    running.stop()


def call(mode: str, base_url: str, method: str, path: str, **options: Any) -> Outcome:
    """One call through a fresh client of the given kind."""
    kwargs = {k: options.pop(k) for k in CALL_ARGS if k in options}
    kwargs.setdefault("policy", POLICY)
    options.setdefault("clock", FakeClock())
    options.setdefault("random", random.Random(3))
    if mode == "sync":
        with ResilientClient(base_url, **options) as client:
            return client.request(method, path, **kwargs)

    async def run() -> Outcome:
        async with AsyncResilientClient(base_url, **options) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(run())


def test_refused_connection_is_retried_for_any_method(mode: str) -> None:
    clock = FakeClock()
    with refused_url() as url, pytest.raises(RetriesExhausted) as caught:
        call(mode, url, "POST", "/x", clock=clock)
    assert isinstance(caught.value.last_error, ConnectError)
    assert len(caught.value.attempts) == 3 and clock.sleeps == [0.01, 0.02]


def test_reset_mid_response_is_retried_when_idempotent(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/reset-get-{mode}", "reset", "reset", "200")
    outcome = call(mode, server.url, "GET", path)
    assert outcome.status == 200 and outcome.response is not None
    assert outcome.response.content == b"status 200"
    assert [a.status for a in outcome.attempts] == [None, None, 200]
    assert outcome.attempts[0].error is not None
    assert outcome.attempts[0].error.startswith("ConnectionReset")
    assert len(server.requests_to(path)) == 3


def test_reset_after_sending_a_post_is_not_repeated(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/reset-post-{mode}", "reset", "200")
    with pytest.raises(ConnectionReset):
        call(mode, server.url, "POST", path, content=b"pay")
    assert len(server.requests_to(path)) == 1


def test_slow_response_times_out_and_is_retried(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/slow-{mode}", "slow=2", "200")
    policy = Policy(timeout=TimeoutPolicy(attempt=0.5), retry=RetryPolicy(backoff=BACKOFF))
    outcome = call(mode, server.url, "GET", path, policy=policy)
    assert outcome.status == 200
    assert outcome.attempts[0].error is not None
    assert outcome.attempts[0].error.startswith("RequestTimeout")


def test_slow_post_times_out_once(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/slow-post-{mode}", "slow=1", "200")
    policy = Policy(timeout=TimeoutPolicy(attempt=0.2), retry=RetryPolicy(backoff=BACKOFF))
    with pytest.raises(RequestTimeout):
        call(mode, server.url, "POST", path, policy=policy)
    assert len(server.requests_to(path)) == 1


def test_attempt_timeout_bounds_a_trickling_body(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/trickle-{mode}", "trickle=1")
    policy = Policy(timeout=TimeoutPolicy(attempt=0.3), retry=None)
    with pytest.raises(RequestTimeout, match="reading the body"):
        call(mode, server.url, "GET", path, policy=policy, clock=SystemClock())


def test_total_deadline_stops_the_call(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/deadline-{mode}", "slow=1")
    policy = Policy(timeout=TimeoutPolicy(total=0.3), retry=RetryPolicy(backoff=BACKOFF))
    with pytest.raises(DeadlineExceeded):
        call(mode, server.url, "GET", path, policy=policy, clock=SystemClock())


def test_503_retry_after_is_waited(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/unavailable-{mode}", "503 Retry-After=2", "429 Retry-After=1", "200")
    clock = FakeClock()
    outcome = call(mode, server.url, "GET", path, clock=clock)
    assert outcome.status == 200
    assert clock.sleeps == [2.0, 1.0]
    assert [a.status for a in outcome.attempts] == [503, 429, 200]


def test_idempotency_key_reaches_the_server_unchanged(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/orders-{mode}", "503", "reset", "201")
    op = Operation("createOrder", "POST", path, idempotency_key_header="Idempotency-Key")
    outcome = call(mode, server.url, "POST", path, operation=op, json={"n": 1})
    seen = server.requests_to(path)
    assert outcome.status == 201 and len(seen) == 3
    assert {s.headers["idempotency-key"] for s in seen} == {outcome.idempotency_key}
    assert {s.body for s in seen} == {b'{"n":1}'}


def test_response_size_limit(mode: str, server: FaultServer) -> None:
    path = server.plan(f"/big-{mode}", "big=5000")
    with pytest.raises(ResponseTooLarge, match="limit of 1000"):
        call(mode, server.url, "GET", path, max_response_bytes=1000)
    assert len(server.requests_to(path)) == 1
    outcome = call(mode, server.url, "GET", path, max_response_bytes=5000)
    assert outcome.response is not None and len(outcome.response.content) == 5000


def test_redirects_are_followed_within_the_origin_only(mode: str, server: FaultServer) -> None:
    target = server.plan(f"/moved-here-{mode}", "200")
    same = server.plan(f"/same-{mode}", f"redirect={target}")
    outcome = call(mode, server.url, "GET", same)
    assert outcome.status == 200 and outcome.response is not None
    assert outcome.response.request.url.path == target
    elsewhere = server.plan(f"/elsewhere-{mode}", f"redirect=http://localhost:{server.port}/x")
    outcome = call(mode, server.url, "GET", elsewhere)
    assert outcome.status == 307
    assert server.requests_to("/x") == []
