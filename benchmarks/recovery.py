"""Recovery after an outage: how long until every call succeeds again.

Many independent clients call a loopback service steadily; after a warm-up the
service answers 503 to everything for a while, then recovers. Printed per
strategy:

* time to full goodput: from the service's recovery to the start of the last
  call that still failed (every call started later succeeded); 0 when the
  first call after the recovery succeeded;
* goodput in the first second after the recovery, as a share of the
  successful calls per second before the outage;
* server-side requests per logical call during the outage, the load that a
  breaker saves in exchange for a slower recovery.

A breaker's recovery depends on where in its open period the service
recovers, so each run's outage is longer by a seeded random share of the
breakers' open time: the runs sample that phase instead of repeating one.

Usage: python benchmarks/recovery.py [--clients N] [--outage S] [--repeats R] [--quick]
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

STRATEGIES: dict[str, _peers.Strategy] = {
    "no retries, no breaker": _peers.no_retries,
    "tenacity, no breaker": _peers.tenacity_retries,
    "tenacity + pybreaker": _peers.tenacity_pybreaker,
    "seawall, budget, no breaker": _peers.seawall(breaker=False),
    "seawall, budget + breaker": _peers.seawall(breaker=True),
}
FIGURES = ["time to full goodput s", "goodput 1st s after", "requests per call in outage"]


async def run_once(
    service: _peers.Service,
    strategy: _peers.Strategy,
    clients: int,
    warm_up: float,
    outage: float,
    after: float,
    think: float,
) -> list[float]:
    """One run's figures, in the order of FIGURES."""
    service.reset_counts()
    marks: dict[str, float] = {}

    async def break_service() -> None:
        await asyncio.sleep(warm_up)
        marks["outage_requests"] = -await asyncio.to_thread(service.requests_received)
        marks["start"] = time.monotonic()
        marks["recovery"] = await asyncio.to_thread(service.outage, outage)
        await asyncio.sleep(marks["recovery"] - time.monotonic())
        marks["outage_requests"] += await asyncio.to_thread(service.requests_received)

    records, _ = await asyncio.gather(
        _peers.drive(
            strategy, service.url, clients=clients, duration=warm_up + outage + after, think=think
        ),
        break_service(),
    )
    start, recovery = marks["start"], marks["recovery"]
    before = [r for r in records if r.end < start]
    first_start = min(r.start for r in records)
    baseline = sum(r.ok for r in before) / (max(r.end for r in before) - first_start)
    first_second = sum(r.ok for r in records if recovery <= r.end < recovery + 1)
    failed_after = [r.start for r in records if r.start >= recovery and not r.ok]
    in_outage = sum(start <= r.start < recovery for r in records)
    return [
        max(failed_after, default=recovery) - recovery,
        first_second / baseline,
        marks["outage_requests"] / max(in_outage, 1),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = _peers.load_arguments(__doc__, clients=5, think=0.05)
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds before the outage")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds of outage")
    parser.add_argument("--after", type=float, default=2.5, help="seconds after the recovery")
    args = _peers.parse(parser, argv, clients=2, warm_up=0.3, outage=0.3, after=1.0)

    _peers.header(
        "Recovery after an outage (issue item 6)",
        f"{args.clients} clients; {args.warm_up} s of normal service, {args.outage} s of outage "
        f"(every request 503) plus up to {_peers.BREAKER_OPEN_FOR} s, {args.after} s after; breakers open for "
        f"{_peers.BREAKER_OPEN_FOR} s; median of {args.repeats} runs",
    )
    phase = random.Random(6).uniform
    with _peers.Service() as service:
        results = _peers.compare(
            STRATEGIES,
            args.repeats,
            lambda strategy: asyncio.run(
                run_once(
                    service,
                    strategy,
                    args.clients,
                    args.warm_up,
                    args.outage + phase(0, _peers.BREAKER_OPEN_FOR),
                    args.after,
                    args.think,
                )
            ),
        )
    rows = [
        [name, f"{to_full:.2f}", f"{goodput:.0%}", f"{load:.2f}"]
        for name, (to_full, goodput, load) in results.items()
    ]
    print(_peers.table(["strategy", *FIGURES], rows))

    without, with_breaker = (
        results["seawall, budget, no breaker"],
        results["seawall, budget + breaker"],
    )
    print(
        f"\nseawall's breaker: full goodput {with_breaker[0]:.2f} s after recovery "
        f"(without: {without[0]:.2f} s), for {with_breaker[2]:.2f} requests per call "
        f"during the outage (without: {without[2]:.2f})"
    )


if __name__ == "__main__":
    main()
