"""Load amplification in an outage: server-side requests per logical call.

Many independent clients call a loopback service that answers 503 to every
request for the whole measurement. The service counts what it receives; the
clients count their logical calls. The ratio is the load that retries add at
the worst moment: a retry strategy without a budget approaches its attempt
count, seawall's retry budget holds it near 1 + ratio (plus the budget's floor
of 10 retries per client, which weighs more the fewer calls each client makes).

Usage: python benchmarks/outage.py [--clients N] [--duration S] [--repeats R] [--quick]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

STRATEGIES: dict[str, _peers.Strategy] = {
    **_peers.compared(),
    "seawall: 3 attempts, budget with floor 0": _peers.seawall(breaker=False, budget_floor=0),
}
BUDGET_RATIO, BUDGET_FLOOR = 0.2, 10  # seawall's BudgetPolicy defaults, used by the strategy


def measure(
    service: _peers.Service, strategy: _peers.Strategy, clients: int, duration: float, think: float
) -> list[float]:
    """[logical calls, server-side requests, requests per call] for one run inside an outage."""
    # The outage outlasts the run, so that calls still retrying at the end fail too.
    service.outage(duration + 5)
    service.reset_counts()
    try:
        records = asyncio.run(
            _peers.drive(strategy, service.url, clients=clients, duration=duration, think=think)
        )
        requests = service.requests_received()
        return [len(records), requests, requests / len(records)]
    finally:
        service.end_outage()


def main(argv: list[str] | None = None) -> None:
    parser = _peers.load_arguments(__doc__, clients=5, think=0.01)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of load per run")
    args = _peers.parse(parser, argv, clients=2, duration=0.3)

    _peers.header(
        "Load amplification in an outage (issue item 4)",
        f"{args.clients} clients, {args.duration} s of a total outage (every request 503), "
        f"{args.think} s between a client's calls, median of {args.repeats} runs",
    )
    with _peers.Service() as service:
        results = _peers.compare(
            STRATEGIES,
            args.repeats,
            lambda strategy: measure(service, strategy, args.clients, args.duration, args.think),
        )
    rows = [
        [name, f"{calls:.0f}", f"{requests:.0f}", f"{ratio:.2f}"]
        for name, (calls, requests, ratio) in results.items()
    ]
    print(_peers.table(["strategy", "logical calls", "server requests", "requests per call"], rows))

    seawall_calls, _, seawall_ratio = results["(d) seawall: 3 attempts, budget"]
    bound = 1 + BUDGET_RATIO + BUDGET_FLOOR * args.clients / seawall_calls
    naive_ratio = results["(b) naive: 3 attempts, fixed wait"][2]
    print(
        f"\nseawall with its budget: {seawall_ratio:.2f} requests per call; its budget allows "
        f"at most 1 + {BUDGET_RATIO} + {BUDGET_FLOOR} × {args.clients} clients / "
        f"{seawall_calls:.0f} calls = {bound:.2f}"
    )
    floorless = results["seawall: 3 attempts, budget with floor 0"][2]
    print(
        f"seawall with a budget floor of 0: {floorless:.2f} requests per call "
        f"(at most 1 + {BUDGET_RATIO})"
    )
    print(f"naive fixed retries: {naive_ratio:.2f} requests per call of {_peers.ATTEMPTS} attempts")


if __name__ == "__main__":
    main()
