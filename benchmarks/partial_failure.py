"""Goodput and tail latency under partial failure.

Many independent clients call a loopback service that answers 503 to a seeded
10 % of requests and delays another 1 % by 1 s, past every strategy's 0.3 s
attempt timeout. Printed per strategy: the share of logical calls that
succeed, the median, 99th and 99.9th percentiles of a logical call's latency
(retries and waits included), and the server-side requests per call.

Usage: python benchmarks/partial_failure.py [--clients N] [--duration S] [--repeats R] [--quick]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

STRATEGIES = _peers.compared()
FIGURES = ["success", "p50 ms", "p99 ms", "p99.9 ms", "requests per call"]


def measure(
    service: _peers.Service, strategy: _peers.Strategy, clients: int, duration: float, think: float
) -> list[float]:
    """One run's figures, in the order of FIGURES."""
    service.reset_counts()
    records = asyncio.run(
        _peers.drive(strategy, service.url, clients=clients, duration=duration, think=think)
    )
    latencies = [r.end - r.start for r in records]
    return [
        sum(r.ok for r in records) / len(records),
        _peers.percentile(latencies, 0.50) * 1000,
        _peers.percentile(latencies, 0.99) * 1000,
        _peers.percentile(latencies, 0.999) * 1000,
        service.requests_received() / len(records),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = _peers.load_arguments(__doc__, clients=5, think=0.02)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per run")
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--slow-rate", type=float, default=0.01)
    parser.add_argument("--slow-delay", type=float, default=1.0)
    args = _peers.parse(parser, argv, clients=2, duration=0.3)

    _peers.header(
        "Goodput and tail latency under partial failure (issue item 5)",
        f"{args.clients} clients for {args.duration} s; {args.error_rate:.0%} of requests 503, "
        f"{args.slow_rate:.0%} {args.slow_delay} s late; attempt timeout "
        f"{_peers.ATTEMPT_TIMEOUT} s; median of {args.repeats} runs",
    )
    with _peers.Service(
        error_rate=args.error_rate, slow_rate=args.slow_rate, slow_delay=args.slow_delay, seed=5
    ) as service:
        results = _peers.compare(
            STRATEGIES,
            args.repeats,
            lambda strategy: measure(service, strategy, args.clients, args.duration, args.think),
        )
    rows = [
        [name, f"{success:.2%}", *(f"{ms:.1f}" for ms in latencies), f"{load:.2f}"]
        for name, (success, *latencies, load) in results.items()
    ]
    print(_peers.table(["strategy", *FIGURES], rows))

    bare = results["(a) no retries"]
    seawall = results["(d) seawall: 3 attempts, budget"]
    tenacity = results["(c) tenacity: 3 attempts, exp. + jitter"]
    print(
        f"\nseawall vs no retries: success {seawall[0]:.2%} vs {bare[0]:.2%}, "
        f"p99 {seawall[2]:.0f} ms vs {bare[2]:.0f} ms"
    )
    print(
        f"seawall vs tenacity: success {seawall[0]:.2%} vs {tenacity[0]:.2%}, "
        f"p99 {seawall[2]:.0f} ms vs {tenacity[2]:.0f} ms, "
        f"load {seawall[4]:.2f} vs {tenacity[4]:.2f} requests per call"
    )


if __name__ == "__main__":
    main()
