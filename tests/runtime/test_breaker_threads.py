"""The circuit breaker of one client shared by many threads: it opens once,
admits no new call while open, admits exactly its probe limit when half-open;
and a response refused for its size is not held against the host.

Over an in-process transport on a fake clock, so the breaker's open time
passes only when a test says so.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from seawall_runtime import (
    BreakerPolicy,
    BreakerStateChanged,
    CircuitBreaker,
    CircuitOpen,
    FakeClock,
    Hooks,
    Policy,
    ResilientClient,
    ResponseTooLarge,
)

THREADS = 8
CALLS_EACH = 25
MINIMUM_CALLS = 20
SAFETY_TIMEOUT = 30.0  # seconds; only reached when the runtime misbehaves


class Recorder:
    """A transport handler that counts requests and answers with ``answer``."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.lock = threading.Lock()
        self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.count += 1
        return self.answer(request)


def shared_client(
    recorder: Recorder,
    clock: FakeClock,
    breaker: BreakerPolicy,
    changes: list[str],
    max_response_bytes: int | None = None,
) -> ResilientClient:
    def changed(event: BreakerStateChanged) -> None:
        changes.append(f"{event.old}->{event.new}")  # list.append is atomic

    return ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(recorder),
        policy=Policy(retry=None),
        breaker=breaker,
        budget=None,
        clock=clock,
        hooks=Hooks(on_breaker_change=changed),
        max_response_bytes=max_response_bytes,
    )


def only_breaker(client: ResilientClient) -> CircuitBreaker:
    [breaker] = client.circuit_breakers.values()
    return breaker


def call_or_refusal(client: ResilientClient) -> int | str:
    """The status of one GET, or "open" when the breaker refused it."""
    try:
        status = client.request("GET", "/items").status
    except CircuitOpen:
        return "open"
    assert status is not None
    return status


def run_threads(client: ResilientClient) -> list[int | str]:
    """THREADS threads, started together, each making CALLS_EACH calls."""
    start = threading.Barrier(THREADS)

    def worker(_: int) -> list[int | str]:
        start.wait()
        return [call_or_refusal(client) for _ in range(CALLS_EACH)]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return [result for batch in pool.map(worker, range(THREADS)) for result in batch]


def expect_opened_once(
    client: ResilientClient, recorder: Recorder, changes: list[str], results: list[int | str]
) -> None:
    assert changes == ["closed->open"]
    assert results.count(503) == recorder.count
    assert results.count("open") == THREADS * CALLS_EACH - recorder.count
    breaker = only_breaker(client)
    assert breaker.state == "open"
    # Late answers to calls admitted before the opening do not land in the window.
    assert breaker.counts() == (0, 0)


BREAKER = BreakerPolicy(minimum_calls=MINIMUM_CALLS, failure_ratio=0.5, open_for=60)


def test_many_threads_open_the_breaker_once_and_stop_reaching_the_host() -> None:
    recorder = Recorder(lambda request: httpx.Response(503))
    changes: list[str] = []
    client = shared_client(recorder, FakeClock(), BREAKER, changes)
    results = run_threads(client)
    # The 20th failure opens the breaker. Each thread has one call at a time, so
    # when it opens at most the other THREADS - 1 hold a permit from before and
    # still reach the host; every later call is refused (the clock stands still).
    assert MINIMUM_CALLS <= recorder.count <= MINIMUM_CALLS + THREADS - 1
    expect_opened_once(client, recorder, changes, results)


def test_calls_in_flight_when_the_breaker_opens_are_the_only_late_ones() -> None:
    # Every thread is held in the transport together from the 20th request on:
    # the 20th failure then opens the breaker with THREADS - 1 calls in flight.
    all_in_flight = threading.Barrier(THREADS)
    numbers = itertools.count(1)  # next() on it is atomic: one number per request

    def answer(request: httpx.Request) -> httpx.Response:
        if MINIMUM_CALLS <= next(numbers) < MINIMUM_CALLS + THREADS:
            all_in_flight.wait(SAFETY_TIMEOUT)
        return httpx.Response(503)

    recorder = Recorder(answer)
    changes: list[str] = []
    client = shared_client(recorder, FakeClock(), BREAKER, changes)
    results = run_threads(client)
    assert recorder.count == MINIMUM_CALLS + THREADS - 1
    expect_opened_once(client, recorder, changes, results)


def test_a_half_open_breaker_admits_exactly_its_probes_while_they_are_in_flight() -> None:
    probes, racers = 2, 16
    refused, arrived = threading.Semaphore(0), threading.Semaphore(0)
    release = threading.Event()
    failing = True

    def answer(request: httpx.Request) -> httpx.Response:
        if failing:
            return httpx.Response(503)
        # A probe: hold it until every other racer has been refused.
        arrived.release()
        assert release.wait(SAFETY_TIMEOUT), "the probes were never released"
        return httpx.Response(200)

    recorder = Recorder(answer)
    clock = FakeClock()
    changes: list[str] = []
    policy = BreakerPolicy(minimum_calls=1, open_for=5, half_open_probes=probes)
    client = shared_client(recorder, clock, policy, changes)
    assert call_or_refusal(client) == 503  # opens the breaker
    failing = False
    clock.advance(5)
    start = threading.Barrier(racers)

    def racer(_: int) -> int | str:
        start.wait()
        result = call_or_refusal(client)
        if result == "open":
            refused.release()
        return result

    with ThreadPoolExecutor(max_workers=racers) as pool:
        futures = [pool.submit(racer, n) for n in range(racers)]
        for _ in range(racers - probes):
            assert refused.acquire(timeout=SAFETY_TIMEOUT), "too few racers were refused"
        for _ in range(probes):
            assert arrived.acquire(timeout=SAFETY_TIMEOUT), "too few probes were admitted"
        in_flight = recorder.count - 1  # the probes now waiting in the transport
        release.set()
        results = [future.result() for future in futures]

    assert in_flight == probes
    assert sorted(map(str, results)) == ["200"] * probes + ["open"] * (racers - probes)
    assert recorder.count == 1 + probes
    # The first probe to succeed closes the breaker; the other's verdict is stale.
    assert changes == ["closed->open", "open->half-open", "half-open->closed"]
    assert only_breaker(client).state == "closed"


def test_a_response_too_large_is_not_counted_against_the_breaker() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, content=b"x" * 100)])
    client = ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda request: next(answers)),
        policy=Policy(retry=None),
        breaker=BreakerPolicy(minimum_calls=100),
        budget=None,
        clock=FakeClock(),
        max_response_bytes=10,
    )
    assert client.request("GET", "/items").status == 503
    breaker = only_breaker(client)
    assert breaker.counts() == (1, 1)
    with pytest.raises(ResponseTooLarge):
        client.request("GET", "/items")
    assert breaker.counts() == (1, 1)


def test_a_response_too_large_frees_the_half_open_probe_slot() -> None:
    answers = iter(
        [
            httpx.Response(503),  # opens the breaker
            httpx.Response(200, content=b"x" * 100),  # the probe's answer is too large
            httpx.Response(200),  # the next probe closes the breaker
        ]
    )
    clock = FakeClock()
    changes: list[str] = []
    recorder = Recorder(lambda request: next(answers))
    policy = BreakerPolicy(minimum_calls=1, open_for=5, half_open_probes=1)
    client = shared_client(recorder, clock, policy, changes, max_response_bytes=10)
    assert call_or_refusal(client) == 503
    clock.advance(5)
    with pytest.raises(ResponseTooLarge):
        client.request("GET", "/items")
    assert only_breaker(client).state == "half-open"
    assert call_or_refusal(client) == 200
    assert recorder.count == 3
    assert changes == ["closed->open", "open->half-open", "half-open->closed"]
