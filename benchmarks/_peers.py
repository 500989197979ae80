"""Shared helpers for the benchmark scripts: the peers' venv, the machine, statistics, tables.

The peers (openapi-python-client, datamodel-code-generator, tenacity, stamina,
pybreaker) are benchmark-only dependencies. They live in their own venv,
``benchmarks/.venv-peers``, so that the project's environment stays as users
get it. :func:`ensure_peers` creates that venv and installs what is missing;
:func:`import_peers` makes pure-Python peers importable from the running
interpreter, installing them on demand.

Scripts import this module by putting ``benchmarks/`` on ``sys.path`` (each
script's own folder is there already when run as ``python benchmarks/x.py``).
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import importlib
import importlib.util
import math
import os
import platform
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import venv
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
PEERS_VENV = BENCHMARKS / ".venv-peers"

#: The import name of each pure-Python peer (or peer's dependency) and its package.
PEER_PACKAGES = {
    "tenacity": "tenacity",
    "stamina": "stamina",
    "pybreaker": "pybreaker",
    "attrs": "attrs",
    "dateutil": "python-dateutil",
}


def _peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


@contextmanager
def _venv_lock() -> Iterator[None]:
    """Serialise venv creation and installs between concurrently running scripts."""
    # In the temporary folder, not beside the venv: nothing to ignore in git.
    with open(Path(tempfile.gettempdir()) / "seawall-venv-peers.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _missing(python: Path, packages: Sequence[str]) -> list[str]:
    """Which of ``packages`` (distribution names, optionally with a version spec) are absent."""
    names = [re.split(r"[\s\[<>=!~;]", spec.strip(), maxsplit=1)[0] for spec in packages]
    probe = (
        "import sys, importlib.metadata as m\n"
        "for name in sys.argv[1:]:\n"
        "    try: m.version(name)\n"
        "    except m.PackageNotFoundError: print(name)\n"
    )
    result = subprocess.run(
        [str(python), "-c", probe, *names], capture_output=True, text=True, check=True
    )
    absent = set(result.stdout.split())
    return [spec for spec, name in zip(packages, names) if name in absent]


def ensure_peers(packages: Sequence[str]) -> Path:
    """Create ``benchmarks/.venv-peers`` if needed and install the missing ``packages``.

    Returns the venv's Python. Safe to call from several scripts at once.
    """
    python = _peers_python()
    with _venv_lock():
        if not python.exists():
            print(f"creating the peers' venv in {PEERS_VENV}", file=sys.stderr)
            venv.EnvBuilder(with_pip=True, clear=True).create(PEERS_VENV)
        missing = _missing(python, packages)
        if missing:
            print(f"installing into the peers' venv: {' '.join(missing)}", file=sys.stderr)
            subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-qq",
                    "--disable-pip-version-check",
                    *missing,
                ],
                check=True,
            )
    return python


def _peers_site_packages() -> Path:
    """The peers' venv's site-packages, which must match this interpreter's version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = PEERS_VENV / "lib" / version / "site-packages"
    if not site.is_dir():
        raise RuntimeError(
            f"{PEERS_VENV} was made with another Python than {version}; "
            f"delete it and run again to recreate it"
        )
    return site


def import_peers(*modules: str) -> None:
    """Make the pure-Python peers ``modules`` importable, installing them if needed.

    A peer already importable (for instance installed in the project venv) is
    used as is; otherwise it is installed into the peers' venv, whose
    site-packages is then appended to ``sys.path`` (last, so it shadows nothing).
    """
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    if not absent:
        return
    ensure_peers([PEER_PACKAGES[m] for m in absent])
    site = str(_peers_site_packages())
    if site not in sys.path:
        sys.path.append(site)
    importlib.invalidate_caches()


def machine() -> str:
    """One line naming the machine a result was measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cores} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values`` by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median, or NaN when there is nothing to summarise."""
    return statistics.median(values) if values else float("nan")


def medians(runs: Sequence[Sequence[float]]) -> list[float]:
    """Figure by figure, the median over several runs' lists of figures."""
    return [median([run[i] for run in runs]) for i in range(len(runs[0]))]


def compare(
    strategies: dict[str, Strategy], repeats: int, run: Callable[[Strategy], list[float]]
) -> dict[str, list[float]]:
    """Each strategy's figures: the median, figure by figure, of ``repeats`` runs.

    Progress goes to stderr, so that stdout holds only the results.
    """
    results = {}
    for name, strategy in strategies.items():
        print(f"  {name}: {repeats} runs", file=sys.stderr, flush=True)
        results[name] = medians([run(strategy) for _ in range(repeats)])
    return results


def load_arguments(doc: str, *, clients: int, think: float) -> argparse.ArgumentParser:
    """The options every load benchmark takes; the script adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=clients, help="independent clients")
    parser.add_argument("--think", type=float, default=think, help="pause between a client's calls")
    parser.add_argument("--repeats", type=int, default=3, help="runs per strategy (median quoted)")
    parser.add_argument("--quick", action="store_true", help="a tiny run that only checks it works")
    return parser


def parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, **quick: float
) -> argparse.Namespace:
    """Parse ``argv``; with ``--quick``, the ``quick`` settings (and one run) replace the others."""
    args = parser.parse_args(argv)
    if args.quick:
        vars(args).update(quick, repeats=1)
    return args


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def header(title: str, settings: str) -> None:
    """Print a benchmark's title, the machine and its settings."""
    print(f"## {title}\n")
    print(f"machine: {machine()}")
    print(f"settings: {settings}\n")


# --- The service under test: a loopback HTTP server in its own process --------------------------
#
# An ASGI app answering GET /thing with a small JSON body (a seeded share of
# answers delayed), behind seawall's chaos middleware, which injects errors and
# outages and counts every request server-side (GET /_chaos/stats). It runs
# under uvicorn in a child process so the server and the clients do not share
# one interpreter lock.

PATH = "/thing"
_BODY = b'{"id":1,"name":"thing"}'


def _service_app(slow_rate: float, slow_delay: float, seed: int, faults: object) -> Any:
    import asyncio
    import random

    from seawall.chaos import ChaosState, fault_set_from_json
    from seawall.chaos.asgi import Receive, Scope, Send
    from seawall.chaos.middleware import ChaosMiddleware

    draw = random.Random(seed).random

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if slow_rate and draw() < slow_rate:
            await asyncio.sleep(slow_delay)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})

    return ChaosMiddleware(answer, ChaosState(fault_set_from_json(faults)))


def _exit_with_parent() -> None:
    """End this process when the benchmark that started it is gone (killed, crashed)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _serve(argv: Sequence[str]) -> None:
    import argparse
    import json

    import uvicorn

    parser = argparse.ArgumentParser(description="the benchmarks' loopback service")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--faults", default="{}", help="a chaos fault set as JSON")
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-delay", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    _exit_with_parent()
    app = _service_app(args.slow_rate, args.slow_delay, args.seed, json.loads(args.faults))
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="off"
    )


class Service:
    """The service under test, started in a child process for a ``with`` block.

    ``error_rate``: share of requests answered 503 by the chaos middleware;
    ``slow_rate``/``slow_delay``: share of requests answered late, and how late.
    """

    def __init__(
        self,
        *,
        error_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_delay: float = 1.0,
        seed: int = 1,
    ) -> None:
        import json

        errors = [{"status": 503, "rate": error_rate}] if error_rate else []
        self._args = [
            "--faults",
            json.dumps({"seed": seed, "rules": [{"errors": errors}]}),
            # The app sees only what the middleware did not fail: scale up to match.
            "--slow-rate",
            str(slow_rate / (1 - error_rate)),
            "--slow-delay",
            str(slow_delay),
            "--seed",
            str(seed),
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Service:
        import socket
        import time

        import httpx

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO / "runtime")}
        self._process = subprocess.Popen(
            [sys.executable, __file__, "serve", "--port", str(port), *self._args], env=env
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the benchmark service exited with {self._process.returncode}")
            try:
                httpx.get(self.url + "/_chaos/stats", timeout=1, verify=_tls()).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("the benchmark service did not start within 20 s")

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def _admin(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        import httpx

        response = httpx.request(
            method, f"{self.url}/_chaos{path}", json=body, timeout=5, verify=_tls()
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def requests_received(self) -> int:
        """Requests the service has received since the start or the last reset."""
        return int(self._admin("GET", "/stats")["received"])

    def reset_counts(self) -> None:
        """Zero the server-side counters."""
        self._admin("POST", "/reset")

    def outage(self, duration: float) -> float:
        """Answer 503 to everything for ``duration`` s from now; returns when it ends.

        The return value is on ``time.monotonic()``'s clock, which on Linux is
        the same in every process of the machine.
        """
        import time

        before = time.monotonic()
        self._admin("POST", "/outage", {"duration": duration, "kind": 503})
        return (before + time.monotonic()) / 2 + duration

    def end_outage(self) -> None:
        """End the outages started with :meth:`outage`."""
        self._admin("DELETE", "/outage")


# --- Client strategies: the same logical call, made resilient in different ways -----------------
#
# Every strategy gets the same per-attempt timeout, the same three attempts
# (where it retries at all) and the same initial backoff, so that only the
# retry logic differs. Durations are the product defaults scaled down ten
# times (backoff 0.05 s up to 0.5 s; breaker window 3 s, open for 1.5 s) so
# runs are short; the retry budget keeps its defaults (20 % of calls plus 10
# per client, over 10 s, longer than any run).

ATTEMPT_TIMEOUT = 0.3
ATTEMPTS = 3
BACKOFF_INITIAL = 0.05
BACKOFF_MAX = 0.5
BREAKER_OPEN_FOR = 1.5

Call = Callable[[], Awaitable[bool]]
Strategy = Callable[[str], AbstractAsyncContextManager[Call]]


class _Failed(Exception):
    """A response that the peers' retry loops should treat as a failure (5xx)."""


@functools.lru_cache(maxsize=None)
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one per client costs ~0.3 s here."""
    return ssl.create_default_context()


@asynccontextmanager
async def _http(url: str) -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=ATTEMPT_TIMEOUT, verify=_tls()) as client:
        yield client


async def _get_or_raise(http: Any) -> None:
    """One attempt: success on 2xx; an exception on 5xx or a transport error."""
    response = await http.get(PATH)
    if response.status_code >= 500:
        raise _Failed(response.status_code)


@asynccontextmanager
async def no_retries(url: str) -> AsyncIterator[Call]:
    """(a) One attempt per call."""
    import httpx

    async with _http(url) as http:

        async def call() -> bool:
            try:
                return (await http.get(PATH)).status_code == 200  # type: ignore[no-any-return]
            except httpx.HTTPError:
                return False

        yield call


@asynccontextmanager
async def naive_retries(url: str) -> AsyncIterator[Call]:
    """(b) Three attempts, a fixed wait between them: no jitter, no budget."""
    import asyncio

    import httpx

    async with _http(url) as http:

        async def call() -> bool:
            for attempt in range(ATTEMPTS):
                if attempt:
                    await asyncio.sleep(BACKOFF_INITIAL)
                try:
                    await _get_or_raise(http)
                    return True
                except (httpx.HTTPError, _Failed):
                    pass
            return False

        yield call


def tenacity_settings(retry_on: tuple[type[BaseException], ...]) -> dict[str, Any]:
    """tenacity's arguments for our retries: 3 attempts, full-jitter exponential backoff."""
    import_peers("tenacity")
    import tenacity

    return {
        "stop": tenacity.stop_after_attempt(ATTEMPTS),
        "wait": tenacity.wait_random_exponential(multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX),
        "retry": tenacity.retry_if_exception_type(retry_on),
        "reraise": True,
    }


@asynccontextmanager
async def _with_tenacity(
    url: str, attempt: Callable[[Any], Awaitable[None]], gives_up: tuple[type[Exception], ...]
) -> AsyncIterator[Call]:
    import httpx
    import tenacity

    failures: tuple[type[Exception], ...] = (httpx.HTTPError, _Failed, *gives_up)
    async with _http(url) as http:
        retrying = tenacity.AsyncRetrying(**tenacity_settings((httpx.HTTPError, _Failed)))

        async def call() -> bool:
            try:
                await retrying(attempt, http)
                return True
            except failures:
                return False

        yield call


def tenacity_retries(url: str) -> AbstractAsyncContextManager[Call]:
    """(c) tenacity: three attempts, exponential backoff with full jitter."""
    import_peers("tenacity")
    return _with_tenacity(url, _get_or_raise, ())


@asynccontextmanager
async def stamina_retries(url: str) -> AsyncIterator[Call]:
    """stamina: three attempts, exponential backoff with additive jitter."""
    import httpx

    import_peers("stamina")
    import stamina.instrumentation

    stamina.instrumentation.set_on_retry_hooks([])  # no log line per retry
    async with _http(url) as http:

        async def call() -> bool:
            try:
                async for attempt in stamina.retry_context(
                    on=(httpx.HTTPError, _Failed),
                    attempts=ATTEMPTS,
                    timeout=None,
                    wait_initial=BACKOFF_INITIAL,
                    wait_max=BACKOFF_MAX,
                    wait_jitter=BACKOFF_INITIAL,
                ):
                    with attempt:
                        await _get_or_raise(http)
                return True
            except (httpx.HTTPError, _Failed):
                return False

        yield call


def tenacity_pybreaker(url: str) -> AbstractAsyncContextManager[Call]:
    """tenacity's retries around a pybreaker circuit breaker (opens after 5 failures in a row)."""
    import_peers("tenacity", "pybreaker")
    import pybreaker

    breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=BREAKER_OPEN_FOR)

    async def guarded(http: Any) -> None:
        with breaker.calling():
            await _get_or_raise(http)

    return _with_tenacity(url, guarded, (pybreaker.CircuitBreakerError,))


def seawall(*, breaker: bool, budget_floor: int = 10) -> Strategy:
    """(d) The seawall runtime: retries within its budget, with or without its breaker.

    ``budget_floor``: retries a client may make beyond its share (the default is 10).
    """

    @asynccontextmanager
    async def strategy(url: str) -> AsyncIterator[Call]:
        from seawall_runtime import (
            AsyncResilientClient,
            Backoff,
            BreakerPolicy,
            BudgetPolicy,
            Operation,
            Policy,
            RetryPolicy,
            SeawallError,
            TimeoutPolicy,
        )

        policy = Policy(
            timeout=TimeoutPolicy(attempt=ATTEMPT_TIMEOUT),
            retry=RetryPolicy(
                attempts=ATTEMPTS, backoff=Backoff(initial=BACKOFF_INITIAL, max=BACKOFF_MAX)
            ),
        )
        operation = Operation("getThing", "GET", PATH)
        client = AsyncResilientClient(
            url,
            policy=policy,
            budget=BudgetPolicy(floor=budget_floor),
            verify=_tls(),
            breaker=BreakerPolicy(window=3.0, open_for=BREAKER_OPEN_FOR) if breaker else None,
        )
        async with client:

            async def call() -> bool:
                try:
                    outcome = await client.request("GET", PATH, operation=operation)
                except SeawallError:
                    return False
                return outcome.status == 200

            yield call

    return strategy


def compared() -> dict[str, Strategy]:
    """The strategies the issue compares, (a) to (d), plus stamina and seawall's breaker."""
    return {
        "(a) no retries": no_retries,
        "(b) naive: 3 attempts, fixed wait": naive_retries,
        "(c) tenacity: 3 attempts, exp. + jitter": tenacity_retries,
        "stamina: 3 attempts, exp. + jitter": stamina_retries,
        "(d) seawall: 3 attempts, budget": seawall(breaker=False),
        "seawall: 3 attempts, budget + breaker": seawall(breaker=True),
    }


@dataclass(frozen=True)
class CallRecord:
    """One logical call as a client saw it (times on ``time.monotonic()``)."""

    start: float
    end: float
    ok: bool


async def drive(
    strategy: Strategy, url: str, *, clients: int, duration: float, think: float = 0.0
) -> list[CallRecord]:
    """Run ``clients`` independent clients, each calling in a loop for ``duration`` s.

    Each client has its own connection pool (and, for seawall, its own budget
    and breaker), as separate processes would. A client pauses ``think`` s
    between calls and starts no call after the deadline.
    """
    import asyncio
    import time
    from contextlib import AsyncExitStack

    records: list[CallRecord] = []

    async def loop(call: Call, deadline: float) -> None:
        while (start := time.monotonic()) < deadline:
            ok = await call()
            records.append(CallRecord(start, time.monotonic(), ok))
            if think:
                await asyncio.sleep(think)

    async with AsyncExitStack() as stack:
        # Open every client first, so that set-up time is not part of the run.
        calls = [await stack.enter_async_context(strategy(url)) for _ in range(clients)]
        deadline = time.monotonic() + duration
        await asyncio.gather(*(loop(call, deadline) for call in calls))
    return records


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    _serve(sys.argv[2:])
