"""The runtime's overhead over bare httpx in CPU instructions per call (valgrind).

Time per call moves by tens of µs between runs on a shared machine; the
number of instructions a call executes does not. Each contender runs in a
child process under valgrind's callgrind tool twice, with a few and with many
calls; the difference divided by the extra calls is its cost per call, free
of start-up. Contenders, all on an in-process transport (``MockTransport``):

* bare httpx, a plain GET; and the same GET carrying an Idempotency-Key
  header set to a fresh UUID by the caller;
* ``ResilientClient`` with every policy on (retry, budget, breaker, attempt
  and total timeouts, fallback), a plain GET; and a GET whose operation
  declares the key header (the runtime makes and sets the key).

Prints instructions per call and the runtime's extra over the bare call with
the same headers. Needs valgrind; without it, says so and exits.

Usage: python benchmarks/runtime_instructions.py [--calls N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve()
WARM_UP = 50
FEW = 20
#: (label, child variant, the bare variant it is measured against)
IN_PROCESS = [
    ("bare httpx, GET", "bare", None),
    ("bare httpx, GET + key header", "bare-keyed", None),
    ("runtime, GET", "runtime", "bare"),
    ("runtime, GET + idempotency key", "runtime-keyed", "bare-keyed"),
]
LOOPBACK = [("bare httpx, GET", "bare", None), ("runtime, GET", "runtime", "bare")]


def child(variant: str, calls: int, url: str | None) -> None:
    """Make ``calls`` calls of one contender (after a warm-up), then say how many."""
    import uuid

    import httpx

    # The same clients, policies and answer as runtime_overhead.py measures by time.
    from runtime_overhead import KEYED, PLAIN, RESILIENT, answer
    from seawall_runtime import Operation, ResilientClient

    # A server's URL, or the in-process transport.
    transport = httpx.MockTransport(answer) if url is None else None
    base_url = url or "http://bench.test"
    bare = httpx.Client(base_url=base_url, transport=transport)
    runtime = ResilientClient(
        http=httpx.Client(base_url=base_url, transport=transport), **RESILIENT
    )

    def bare_call(with_key: bool) -> None:
        request = bare.build_request("GET", "/thing")
        if with_key:
            request.headers["Idempotency-Key"] = str(uuid.uuid4())
        bare.send(request)

    def runtime_call(operation: Operation) -> None:
        runtime.send(runtime.build_request("GET", "/thing"), operation=operation)

    calls_by_variant: dict[str, Callable[[], None]] = {
        "bare": lambda: bare_call(False),
        "bare-keyed": lambda: bare_call(True),
        "runtime": lambda: runtime_call(PLAIN),
        "runtime-keyed": lambda: runtime_call(KEYED),
    }
    call = calls_by_variant[variant]
    for _ in range(WARM_UP + calls):
        call()
    print(f"{variant}: {calls} calls after {WARM_UP} to warm up")


def instructions(valgrind: str, variant: str, calls: int, url: str | None = None) -> int:
    """Instructions valgrind counts for a child process making ``calls`` calls
    (to the server at ``url``, else in-process)."""
    done = subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(HERE),
            "--child",
            variant,
            "--calls",
            str(calls),
            *(["--url", url] if url is not None else []),
        ],
        capture_output=True,
        text=True,
        # One hash seed for every run: dict layouts, and so counts, repeat. No
        # bytecode written: a run that found a module's cache stale would count
        # compiling it, and the run after it would not.
        env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind run of {variant} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_call(valgrind: str, variant: str, calls: int, url: str | None) -> float:
    with ThreadPoolExecutor(2) as pool:  # the two runs of a contender side by side
        few, many = pool.map(lambda n: instructions(valgrind, variant, n, url), (FEW, FEW + calls))
    return (many - few) / calls


def table(
    valgrind: str,
    contenders: list[tuple[str, str, str | None]],
    calls: int,
    url: str | None,
) -> None:
    counts: dict[str, float] = {}
    for label, variant, baseline in contenders:
        counts[variant] = per_call(valgrind, variant, calls, url)
        line = f"{label:<32} {counts[variant] / 1000:8.1f}k"
        if baseline is not None:
            extra = counts[variant] - counts[baseline]
            line += (
                f"   extra {extra / 1000:+7.1f}k   ratio {counts[variant] / counts[baseline]:5.3f}"
            )
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls counted per contender")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.calls, args.url)
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed: no instruction counts")
        return
    print(f"instructions per call (valgrind callgrind), {args.calls} calls counted per contender")
    print("sync; runtime with every policy on, no failures\n")
    print("in-process transport:")
    table(valgrind, IN_PROCESS, args.calls, None)
    print("\nloopback server (the client's process only; the server's work is not counted):")
    import _peers

    with _peers.Service() as service:
        table(valgrind, LOOPBACK, max(args.calls // 4, 1), service.url)


if __name__ == "__main__":
    main()
