"""Overhead of the seawall runtime over bare httpx, per call, in one process.

Runs the same GET through a bare ``httpx.Client`` and through a
``ResilientClient`` with every policy on (retry, budget, breaker, attempt and
total timeouts, fallback) but no failures, on an in-process transport and on a
loopback HTTP server (uvicorn in its own process), sync and async. Prints the
median time per call, the extra per call and the ratio, for two calls:

* a GET, idempotent by its method, so no idempotency key (the usual GET);
* a GET whose operation declares an idempotency-key header, against bare httpx
  setting the same header to a fresh UUID itself: the runtime's own cost of
  the key, without httpx's cost of carrying one more header (which bare httpx
  pays too when it sends a key).

If tenacity or pybreaker are installed, prints the same for simple wrappers
around bare httpx, as a reference.

Usage: python benchmarks/runtime_overhead.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import _peers  # noqa: E402

from seawall_runtime import (  # noqa: E402
    AsyncResilientClient,
    BreakerPolicy,
    BudgetPolicy,
    FallbackPolicy,
    Operation,
    Policy,
    ResilientClient,
    RetryPolicy,
    TimeoutPolicy,
)

POLICY = Policy(
    timeout=TimeoutPolicy(connect=2, attempt=5, total=10),
    retry=RetryPolicy(),
    fallback=FallbackPolicy(on=frozenset({"circuit-open"}), value=None),
)
PLAIN = Operation("getThing", "GET", "/thing")
KEYED = Operation("getThing", "GET", "/thing", idempotency_key_header="Idempotency-Key")
T = TypeVar("T")
RESILIENT: dict[str, Any] = {"policy": POLICY, "breaker": BreakerPolicy(), "budget": BudgetPolicy()}


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"ok":true}')


async def answer_async(request: httpx.Request) -> httpx.Response:
    return answer(request)


# In-process calls are pure CPU work of this thread: its CPU time is what they
# cost, and it barely moves when other processes load the machine. Loopback
# calls wait for a server, so they are timed by the wall clock, and by this
# thread's CPU time as well: the runtime adds no waiting to a call that
# succeeds, so its extra CPU time is its extra on the wall clock, without the
# server's and the machine's noise.
CPU_TIME = time.thread_time
WALL_TIME = time.perf_counter
Timers = tuple[Callable[[], float], ...]
Times = tuple[float, ...]  # seconds per call, one per timer


def timed(call: Callable[[], object], calls: int, timers: Timers) -> Times:
    """Seconds per call by each timer over one round of ``calls`` calls."""
    starts = [timer() for timer in timers]
    for _ in range(calls):
        call()
    return tuple((timer() - start) / calls for timer, start in zip(timers, starts))


async def atimed(call: Callable[[], Awaitable[object]], calls: int, timers: Timers) -> Times:
    starts = [timer() for timer in timers]
    for _ in range(calls):
        await call()
    return tuple((timer() - start) / calls for timer, start in zip(timers, starts))


Comparison = tuple[float, float, float]  # median bare, median wrapped, median extra


def compare(
    round_of: Callable[[T], Times], bare: T, wrapped: T, rounds: int
) -> tuple[Comparison, ...]:
    """Per timer: median seconds per call of each, and the median of each
    round's extra.

    Each round times both back to back, in alternating order, so that load
    drift and order effects hit both alike; the extra is taken per round
    (paired), which keeps a loaded machine's slow rounds from skewing it.
    """
    round_of(bare), round_of(wrapped)  # warm up pools and caches
    bare_times: list[Times] = []
    wrapped_times: list[Times] = []
    for index in range(rounds):
        if index % 2:
            wrapped_times.append(round_of(wrapped))
            bare_times.append(round_of(bare))
        else:
            bare_times.append(round_of(bare))
            wrapped_times.append(round_of(wrapped))
    comparisons = []
    for timer in range(len(bare_times[0])):
        bares = [times[timer] for times in bare_times]
        wrappeds = [times[timer] for times in wrapped_times]
        comparisons.append(
            (
                statistics.median(bares),
                statistics.median(wrappeds),
                statistics.median(w - b for b, w in zip(bares, wrappeds)),
            )
        )
    return tuple(comparisons)


def report(label: str, comparisons: tuple[Comparison, ...]) -> None:
    """One row for the first timer; for loopback, one more for the CPU time,
    whose ratio is taken against the bare call's wall time."""
    wall_bare = comparisons[0][0]
    for row_label, (bare, wrapped, extra) in zip((label, "  client CPU time only"), comparisons):
        print(
            f"{row_label:<41} bare {bare * 1e6:8.1f} µs   wrapped {wrapped * 1e6:8.1f} µs   "
            f"{extra * 1e6:+7.1f} µs   ratio {(wall_bare + extra) / wall_bare:5.3f}"
        )


def bare_request(client: httpx.Client | httpx.AsyncClient, keyed: bool) -> httpx.Request:
    """The request a bare httpx caller sends: with a fresh key header if ``keyed``."""
    request = client.build_request("GET", "/thing")
    if keyed:
        request.headers["Idempotency-Key"] = str(uuid.uuid4())
    return request


def sync_pair(
    base_url: str,
    transport: httpx.BaseTransport | None,
    keyed: bool,
    calls: int,
    rounds: int,
    timers: Timers,
) -> tuple[tuple[Comparison, ...], httpx.Client]:
    bare = httpx.Client(base_url=base_url, transport=transport)
    runtime = ResilientClient(
        http=httpx.Client(base_url=base_url, transport=transport), **RESILIENT
    )
    operation = KEYED if keyed else PLAIN

    def bare_call() -> object:
        return bare.send(bare_request(bare, keyed))

    def wrapped_call() -> object:
        return runtime.send(runtime.build_request("GET", "/thing"), operation=operation)

    return (
        compare(lambda call: timed(call, calls, timers), bare_call, wrapped_call, rounds),
        bare,
    )


def async_pair(
    base_url: str,
    transport: httpx.AsyncBaseTransport | None,
    keyed: bool,
    calls: int,
    rounds: int,
    timers: Timers,
) -> tuple[Comparison, ...]:
    loop = asyncio.new_event_loop()
    bare = httpx.AsyncClient(base_url=base_url, transport=transport)
    runtime = AsyncResilientClient(
        http=httpx.AsyncClient(base_url=base_url, transport=transport), **RESILIENT
    )
    operation = KEYED if keyed else PLAIN

    async def bare_call() -> object:
        return await bare.send(bare_request(bare, keyed))

    async def wrapped_call() -> object:
        return await runtime.send(runtime.build_request("GET", "/thing"), operation=operation)

    try:
        return compare(
            lambda call: loop.run_until_complete(atimed(call, calls, timers)),
            bare_call,
            wrapped_call,
            rounds,
        )
    finally:
        loop.close()


def references(bare: httpx.Client, calls: int, rounds: int, timers: Timers) -> None:
    try:
        import tenacity
    except ImportError:
        print("tenacity not installed: no reference")
    else:
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(3),
            wait=tenacity.wait_random_exponential(multiplier=0.1, max=5),
            retry=tenacity.retry_if_exception_type(httpx.TransportError),
        )
        report(
            "  reference: tenacity (retry only)",
            compare(
                lambda call: timed(call, calls, timers),
                lambda: bare.send(bare.build_request("GET", "/thing")),
                lambda: retrying(bare.send, bare.build_request("GET", "/thing")),
                rounds,
            ),
        )
    try:
        import pybreaker
    except ImportError:
        print("pybreaker not installed: no reference")
    else:
        breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=15)
        report(
            "  reference: pybreaker (breaker only)",
            compare(
                lambda call: timed(call, calls, timers),
                lambda: bare.send(bare.build_request("GET", "/thing")),
                lambda: breaker.call(bare.send, bare.build_request("GET", "/thing")),
                rounds,
            ),
        )


def run_transport(
    label: str,
    base_url: str,
    transports: tuple[httpx.BaseTransport | None, httpx.AsyncBaseTransport | None],
    calls: int,
    rounds: int,
    timers: Timers,
) -> None:
    sync_transport, async_transport = transports
    for keyed, call in ((False, "GET"), (True, "GET + idempotency key")):
        times, bare = sync_pair(base_url, sync_transport, keyed, calls, rounds, timers)
        report(f"{label}, sync, {call}", times)
        if not keyed:
            references(bare, calls, rounds, timers[:1])
        report(
            f"{label}, async, {call}",
            async_pair(base_url, async_transport, keyed, calls, rounds, timers),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # Many short rounds: on this shared machine the median extra of 61 paired
    # rounds of 200 calls moved by about 10 µs between runs, that of 7 rounds
    # of 2000 calls by over 40.
    parser.add_argument("--calls", type=int, default=200, help="calls per round (in-process)")
    parser.add_argument("--rounds", type=int, default=61)
    args = parser.parse_args()
    calls, rounds = args.calls, args.rounds
    print(f"median per call over {rounds} interleaved rounds; all policies on, no failures")
    print("extra: median of the rounds' paired differences; ratio: 1 + extra / bare")
    print("in-process: CPU time of the calling thread; loopback: wall-clock time, then")
    print("  the client thread's CPU time alone (ratio: 1 + its extra / bare wall time)")
    print("GET + idempotency key: bare httpx sets the same header to a fresh UUID itself\n")
    transports = (httpx.MockTransport(answer), httpx.MockTransport(answer_async))
    run_transport("in-process", "http://bench.test", transports, calls, rounds, (CPU_TIME,))
    # The server runs in its own process: in this one it would compete with
    # the clients for the interpreter lock and blur the figures.
    with _peers.Service() as service:
        loop_calls = max(calls // 10, 50)
        run_transport(
            "loopback",
            service.url,
            (None, None),
            loop_calls,
            rounds,
            (WALL_TIME, CPU_TIME),
        )
    print("\naims: under 10 µs extra per call in-process; ratio under 1.05 on loopback")


if __name__ == "__main__":
    main()
