"""Many threads and many asyncio tasks sharing one client: breaker and
budget counts stay exact."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import pytest

from seawall_runtime import (
    AsyncResilientClient,
    Backoff,
    BreakerPolicy,
    BudgetPolicy,
    CircuitBreaker,
    FakeClock,
    Policy,
    ResilientClient,
    RetryPolicy,
)

CALLS = 400
FLOOR = 37
# The breaker never trips (minimum_calls above the call count), so its window
# must hold exactly every call; the budget grants exactly FLOOR retries.
BREAKER = BreakerPolicy(minimum_calls=10_000, window=1000)
BUDGET = BudgetPolicy(ratio=0.0, floor=FLOOR, window=1000)
POLICY = Policy(retry=RetryPolicy(attempts=2, backoff=Backoff(initial=0.001, jitter="none")))


class Counter:
    """Answers /fail with 503 and anything else with 200; counts requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    def answer(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.count += 1
        return httpx.Response(503 if request.url.path == "/fail" else 200)

    async def aanswer(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0)  # let other tasks interleave
        return self.answer(request)


def shared_options(transport: httpx.MockTransport) -> dict[str, Any]:
    return {
        "transport": transport,
        "policy": POLICY,
        "breaker": BREAKER,
        "budget": BUDGET,
        "clock": FakeClock(),
        "random": random.Random(0),
    }


def expect_exact_counts(client: ResilientClient | AsyncResilientClient, counter: Counter) -> None:
    [breaker] = client.circuit_breakers.values()
    [budget] = client.retry_budgets.values()
    # Half the calls fail twice when the budget allows a retry, once otherwise.
    assert budget.counts() == (CALLS, FLOOR)
    assert counter.count == CALLS + FLOOR
    assert breaker.counts() == (CALLS + FLOOR, CALLS // 2 + FLOOR)


def test_many_threads_share_one_client() -> None:
    counter = Counter()
    client = ResilientClient(
        "http://api.test", **shared_options(httpx.MockTransport(counter.answer))
    )
    paths = ["/fail", "/ok"] * (CALLS // 2)
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda path: client.request("GET", path).status, paths))
    assert statuses.count(200) == CALLS // 2 and statuses.count(503) == CALLS // 2
    expect_exact_counts(client, counter)


@pytest.mark.anyio
async def test_many_tasks_share_one_client() -> None:
    counter = Counter()
    client = AsyncResilientClient(
        "http://api.test", **shared_options(httpx.MockTransport(counter.aanswer))
    )
    statuses: list[int | None] = []

    async def one(path: str) -> None:
        statuses.append((await client.request("GET", path)).status)

    async with anyio.create_task_group() as group:
        for path in ["/fail", "/ok"] * (CALLS // 2):
            group.start_soon(one, path)
    assert statuses.count(200) == CALLS // 2
    expect_exact_counts(client, counter)


def test_half_open_admits_exactly_the_probe_limit_across_threads() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerPolicy(minimum_calls=1, open_for=1, half_open_probes=3), clock)
    permit = breaker.acquire()
    assert permit is not None
    breaker.record(permit, failed=True)
    clock.advance(1)
    start = threading.Barrier(32)

    def try_probe(_: int) -> bool:
        start.wait()
        return breaker.acquire() is not None

    with ThreadPoolExecutor(max_workers=32) as pool:
        granted = list(pool.map(try_probe, range(32)))
    assert granted.count(True) == 3


@pytest.mark.anyio
async def test_cancelled_probe_gives_its_slot_back() -> None:
    clock = FakeClock()
    answers = iter(["fail", "hang", "ok"])
    hanging = anyio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        step = next(answers)
        if step == "hang":
            hanging.set()
            await anyio.sleep_forever()
        return httpx.Response(500 if step == "fail" else 200)

    client = AsyncResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(answer),
        policy=Policy(retry=None),
        breaker=BreakerPolicy(minimum_calls=1, open_for=1, half_open_probes=1),
        clock=clock,
    )
    assert (await client.request("GET", "/")).status == 500
    clock.advance(1)
    async with anyio.create_task_group() as group:
        group.start_soon(client.request, "GET", "/")  # the probe hangs…
        await hanging.wait()
        group.cancel_scope.cancel()  # …and is cancelled
    assert (await client.request("GET", "/")).status == 200
    [breaker] = client.circuit_breakers.values()
    assert breaker.state == "closed"
