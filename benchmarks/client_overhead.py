"""Client overhead: median time per call with no failures, seawall against its peers.

The same GET (one path parameter, a small JSON object as the answer) is made
through:

* bare httpx (``get`` and ``json()``), the floor;
* a seawall-generated client, every policy on (retries, budget, breaker,
  timeouts), answer parsed into its pydantic model;
* an openapi-python-client-generated client (attrs model, no resilience);
* bare httpx wrapped in tenacity (3 attempts, jittered backoff), stamina, and
  a pybreaker breaker: what a user would add by hand.

Each on an in-process transport (``httpx.MockTransport``: the client's own
cost) and on a loopback uvicorn server (what a call costs in practice), sync
and async. ``benchmarks/runtime_overhead.py`` measures the runtime alone.

Usage: python benchmarks/client_overhead.py [--calls N] [--rounds R] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

SPEC = """\
openapi: 3.0.3
info: {title: Things, version: "1.0"}
paths:
  /things/{thingId}:
    get:
      operationId: getThing
      parameters:
        - {name: thingId, in: path, required: true, schema: {type: integer}}
      responses:
        "200":
          description: the thing
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
"""
IN_PROCESS_URL = "http://bench.test"

Sync = Callable[[], object]
Async = Callable[[], Awaitable[object]]


def _run(command: list[str], **env: str) -> None:
    """Run a generator quietly; on failure show what it said and stop."""
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode:
        sys.exit(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def generate(workdir: Path) -> None:
    """Generate both clients from SPEC into ``workdir`` and make them importable."""
    spec = workdir / "things.yaml"
    spec.write_text(SPEC)
    _run(
        [
            sys.executable,
            "-m",
            "seawall",
            "generate",
            str(spec),
            "--out",
            str(workdir / "seawall"),
            "--package-name",
            "things_seawall",
        ]
    )
    bin_dir = _peers.ensure_peers(["openapi-python-client"]).parent
    # Its post-generation hooks run ruff, installed beside it.
    _run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(workdir / "opc"),
            "--meta",
            "none",
        ],
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    sys.path[:0] = [str(workdir / "seawall"), str(workdir)]
    _peers.import_peers("dateutil", "attrs", "tenacity", "stamina", "pybreaker")


def answer(request: Any) -> Any:
    import httpx

    return httpx.Response(200, json={"id": 1, "name": "thing"})


def time_per_call(
    contenders: dict[str, Sync], calls: int, rounds: int, clock: Callable[[], float]
) -> dict[str, float]:
    """Each contender's median over ``rounds`` of the mean time of ``calls`` calls.

    Rounds interleave the contenders, so that a slow spell of the machine
    weighs on all of them alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for call in contenders.values():
        for _ in range(min(calls, 100)):  # warm up pools and caches
            call()
    for _ in range(rounds):
        for name, call in contenders.items():
            start = clock()
            for _ in range(calls):
                call()
            samples[name].append((clock() - start) / calls)
    return {name: _peers.median(times) for name, times in samples.items()}


async def atime_per_call(
    contenders: dict[str, Async], calls: int, rounds: int, clock: Callable[[], float]
) -> dict[str, float]:
    """:func:`time_per_call` for coroutines."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for call in contenders.values():
        for _ in range(min(calls, 100)):
            await call()
    for _ in range(rounds):
        for name, call in contenders.items():
            start = clock()
            for _ in range(calls):
                await call()
            samples[name].append((clock() - start) / calls)
    return {name: _peers.median(times) for name, times in samples.items()}


def sync_calls(url: str, transport: Any) -> dict[str, Sync]:
    """One call per contender, each through its own client on ``transport``."""
    import httpx
    import pybreaker
    import stamina
    import tenacity
    from things_seawall import Client as SeawallClient  # type: ignore[import-not-found]

    from opc import Client as OpcClient  # type: ignore[import-not-found]
    from opc.api.default import get_thing  # type: ignore[import-not-found]

    bare = httpx.Client(base_url=url, transport=transport, verify=_peers._tls())
    seawall = SeawallClient(url, transport=transport, verify=_peers._tls())
    opc = OpcClient(base_url=url, verify_ssl=_peers._tls(), httpx_args={"transport": transport})
    retrying = tenacity.Retrying(**_peers.tenacity_settings((httpx.TransportError,)))
    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=15)

    def get() -> object:
        return bare.get("/things/1").json()

    @stamina.retry(on=httpx.TransportError, attempts=_peers.ATTEMPTS)
    def stamina_get() -> object:
        return get()

    return {
        "bare httpx": get,
        "seawall-generated client": lambda: seawall.get_thing(1),
        "openapi-python-client": lambda: get_thing.sync(1, client=opc),
        "httpx + tenacity": lambda: retrying(get),
        "httpx + stamina": stamina_get,
        "httpx + pybreaker": lambda: breaker.call(get),
    }


def async_calls(url: str, transport: Any) -> dict[str, Async]:
    """:func:`sync_calls` with the async clients (tenacity and stamina only: pybreaker is sync)."""
    import httpx
    import stamina
    import tenacity
    from things_seawall import AsyncClient as SeawallClient

    from opc import Client as OpcClient
    from opc.api.default import get_thing

    bare = httpx.AsyncClient(base_url=url, transport=transport, verify=_peers._tls())
    seawall = SeawallClient(url, transport=transport, verify=_peers._tls())
    opc = OpcClient(base_url=url, verify_ssl=_peers._tls(), httpx_args={"transport": transport})
    retrying = tenacity.AsyncRetrying(**_peers.tenacity_settings((httpx.TransportError,)))

    async def get() -> object:
        return (await bare.get("/things/1")).json()

    @stamina.retry(on=httpx.TransportError, attempts=_peers.ATTEMPTS)
    async def stamina_get() -> object:
        return await get()

    async def seawall_get() -> object:
        return await seawall.get_thing(1)

    async def opc_get() -> object:
        return await get_thing.asyncio(1, client=opc)

    async def tenacity_get() -> object:
        return await retrying(get)

    return {
        "bare httpx": get,
        "seawall-generated client": seawall_get,
        "openapi-python-client": opc_get,
        "httpx + tenacity": tenacity_get,
        "httpx + stamina": stamina_get,
    }


def measure_all(
    url: str, transport: Any, calls: int, rounds: int, clock: Callable[[], float]
) -> dict[str, tuple[float, float | None]]:
    """(sync, async) seconds per call for every contender."""
    sync = time_per_call(sync_calls(url, transport), calls, rounds, clock)

    async def measure_async() -> dict[str, float]:
        return await atime_per_call(async_calls(url, transport), calls, rounds, clock)

    asynchronous = asyncio.run(measure_async())
    return {name: (seconds, asynchronous.get(name)) for name, seconds in sync.items()}


def print_results(title: str, results: dict[str, tuple[float, float | None]]) -> None:
    bare_sync, bare_async = results["bare httpx"]
    assert bare_async is not None  # bare httpx is always measured both ways

    def cell(seconds: float | None, bare: float) -> str:
        if seconds is None:
            return "n/a"
        return f"{seconds * 1e6:.0f} µs (×{seconds / bare:.2f})"

    rows = [[name, cell(s, bare_sync), cell(a, bare_async)] for name, (s, a) in results.items()]
    print(f"### {title}\n")
    print(_peers.table(["client", "sync per call (× bare)", "async per call (× bare)"], rows))
    seawall_sync, seawall_async = results["seawall-generated client"]
    opc_sync, opc_async = results["openapi-python-client"]
    assert seawall_async is not None and opc_async is not None
    print(
        f"\nseawall-generated vs openapi-python-client: sync ×{seawall_sync / opc_sync:.2f}, "
        f"async ×{seawall_async / opc_async:.2f}; seawall's extra over bare httpx: "
        f"{(seawall_sync - bare_sync) * 1e6:.0f} µs sync, "
        f"{(seawall_async - bare_async) * 1e6:.0f} µs async\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per round (in-process)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a tiny run that only checks it works")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 20, 1
    loopback_calls = max(args.calls // 3, 10)

    _peers.header(
        "Client overhead, no failures (issue item 3)",
        f"median of {args.rounds} interleaved rounds of {args.calls} calls (in-process: CPU "
        f"time of the calling thread) or {loopback_calls} calls (loopback: wall-clock time) "
        f"per contender; seawall with all policies on",
    )
    import httpx

    with tempfile.TemporaryDirectory() as workdir:
        generate(Path(workdir))
        mock = httpx.MockTransport(answer)
        print_results(
            "In-process transport",
            measure_all(IN_PROCESS_URL, mock, args.calls, args.rounds, time.thread_time),
        )
        with _peers.Service() as service:
            print_results(
                "Loopback uvicorn server",
                measure_all(service.url, None, loopback_calls, args.rounds, time.perf_counter),
            )


if __name__ == "__main__":
    main()
