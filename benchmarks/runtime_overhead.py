"""Overhead of the seawall runtime over bare httpx, per call, in one process.

Runs the same GET through a bare ``httpx.Client`` and through a
``ResilientClient`` with every policy on (retry, budget, breaker, attempt and
total timeouts, fallback, idempotency key) but no failures, on an in-process
transport and on a loopback HTTP server, sync and async. Prints the median
time per call, the extra per call and the ratio. If tenacity or pybreaker are
installed, prints the same for simple wrappers around bare httpx, as a reference.

Usage: python benchmarks/runtime_overhead.py [--calls N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

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
OPERATION = Operation("getThing", "GET", "/thing", idempotency_key_header="Idempotency-Key")
T = TypeVar("T")
RESILIENT: dict[str, Any] = {"policy": POLICY, "breaker": BreakerPolicy(), "budget": BudgetPolicy()}


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"ok":true}')


async def answer_async(request: httpx.Request) -> httpx.Response:
    return answer(request)


# In-process calls are pure CPU work of this thread: its CPU time is what they
# cost, and it barely moves when other processes load the machine. Loopback
# calls wait for a server, so they are timed by the wall clock.
CPU_TIME = time.thread_time
WALL_TIME = time.perf_counter


def timed(call: Callable[[], object], calls: int, timer: Callable[[], float]) -> float:
    """Seconds per call over one round of ``calls`` calls."""
    start = timer()
    for _ in range(calls):
        call()
    return (timer() - start) / calls


async def atimed(
    call: Callable[[], Awaitable[object]], calls: int, timer: Callable[[], float]
) -> float:
    start = timer()
    for _ in range(calls):
        await call()
    return (timer() - start) / calls


Comparison = tuple[float, float, float]  # median bare, median wrapped, median extra


def compare(round_of: Callable[[T], float], bare: T, wrapped: T, rounds: int) -> Comparison:
    """Median seconds per call of each, and the median of each round's extra.

    Each round times both back to back, in alternating order, so that load
    drift and order effects hit both alike; the extra is taken per round
    (paired), which keeps a loaded machine's slow rounds from skewing it.
    """
    round_of(bare), round_of(wrapped)  # warm up pools and caches
    bare_times: list[float] = []
    wrapped_times: list[float] = []
    for index in range(rounds):
        if index % 2:
            wrapped_times.append(round_of(wrapped))
            bare_times.append(round_of(bare))
        else:
            bare_times.append(round_of(bare))
            wrapped_times.append(round_of(wrapped))
    extras = [w - b for b, w in zip(bare_times, wrapped_times)]
    return (
        statistics.median(bare_times),
        statistics.median(wrapped_times),
        statistics.median(extras),
    )


def report(label: str, bare: float, wrapped: float, extra: float) -> None:
    print(
        f"{label:<38} bare {bare * 1e6:8.1f} µs   wrapped {wrapped * 1e6:8.1f} µs   "
        f"{extra * 1e6:+7.1f} µs   ratio {(bare + extra) / bare:5.3f}"
    )


def sync_pair(
    base_url: str,
    transport: httpx.BaseTransport | None,
    calls: int,
    rounds: int,
    timer: Callable[[], float],
) -> tuple[Comparison, httpx.Client]:
    bare = httpx.Client(base_url=base_url, transport=transport)
    runtime = ResilientClient(
        http=httpx.Client(base_url=base_url, transport=transport), **RESILIENT
    )

    def bare_call() -> object:
        return bare.send(bare.build_request("GET", "/thing"))

    def wrapped_call() -> object:
        return runtime.send(runtime.build_request("GET", "/thing"), operation=OPERATION)

    return compare(lambda call: timed(call, calls, timer), bare_call, wrapped_call, rounds), bare


def async_pair(
    base_url: str,
    transport: httpx.AsyncBaseTransport | None,
    calls: int,
    rounds: int,
    timer: Callable[[], float],
) -> Comparison:
    loop = asyncio.new_event_loop()
    bare = httpx.AsyncClient(base_url=base_url, transport=transport)
    runtime = AsyncResilientClient(
        http=httpx.AsyncClient(base_url=base_url, transport=transport), **RESILIENT
    )

    async def bare_call() -> object:
        return await bare.send(bare.build_request("GET", "/thing"))

    async def wrapped_call() -> object:
        return await runtime.send(runtime.build_request("GET", "/thing"), operation=OPERATION)

    try:
        return compare(
            lambda call: loop.run_until_complete(atimed(call, calls, timer)),
            bare_call,
            wrapped_call,
            rounds,
        )
    finally:
        loop.close()


def references(bare: httpx.Client, calls: int, rounds: int, timer: Callable[[], float]) -> None:
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
            *compare(
                lambda call: timed(call, calls, timer),
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
            *compare(
                lambda call: timed(call, calls, timer),
                lambda: bare.send(bare.build_request("GET", "/thing")),
                lambda: breaker.call(bare.send, bare.build_request("GET", "/thing")),
                rounds,
            ),
        )


def loopback_server() -> tuple[str, Callable[[], None]]:
    """A uvicorn server on 127.0.0.1 answering every request with a small JSON body."""
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(5)

    return f"http://127.0.0.1:{port}", stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round (in-process)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    calls, rounds = args.calls, args.rounds
    print(f"median per call over {rounds} interleaved rounds; all policies on, no failures")
    print("extra: median of the rounds' paired differences; ratio: 1 + extra / bare")
    print("in-process: CPU time of the calling thread; loopback: wall-clock time\n")
    in_process = "http://bench.test"
    times, bare = sync_pair(in_process, httpx.MockTransport(answer), calls, rounds, CPU_TIME)
    report("in-process transport, sync", *times)
    references(bare, calls, rounds, CPU_TIME)
    async_times = async_pair(in_process, httpx.MockTransport(answer_async), calls, rounds, CPU_TIME)
    report("in-process transport, async", *async_times)

    url, stop = loopback_server()
    try:
        loop_calls = max(calls // 10, 50)
        times, bare = sync_pair(url, None, loop_calls, rounds, WALL_TIME)
        report("loopback uvicorn server, sync", *times)
        references(bare, loop_calls, rounds, WALL_TIME)
        async_times = async_pair(url, None, loop_calls, rounds, WALL_TIME)
        report("loopback uvicorn server, async", *async_times)
    finally:
        stop()
    print("\naims: under 10 µs extra per call in-process; ratio under 1.05 on loopback")


if __name__ == "__main__":
    main()
