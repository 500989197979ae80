"""Runs order sagas against the example services until it SIGKILLs itself at event ``kill_at``.

Usage: crash_services_worker.py LOG ORDERS_URL INVENTORY_URL PAYMENTS_URL SEED KILL_AT.
Events are every saga-log write and the moments just before a request leaves
and just after its answer arrives, so the kill lands before a call, mid-call
(the service applied it, the answer was never logged), or between log writes.
"""

from __future__ import annotations

import random
import sys

from kill_switch import KillableLog, KillSwitch
from order_saga import place_order
from spec_invoker import FaultyTransport, SpecInvoker

from seawall_runtime import FakeClock
from seawall_runtime.saga import RetrySchedule, SagaOptions, SagaRunner

MAX_SAGAS = 500


def main() -> int:
    log_path, orders, inventory, payments, seed_text, kill_text = sys.argv[1:7]
    seed, kill_at = int(seed_text), int(kill_text)
    switch = KillSwitch(kill_at)

    transport = FaultyTransport(rate=0.03, seed=seed, tick=switch.tick)
    urls = {"orders": orders, "inventory": inventory, "payments": payments}
    services = {name: SpecInvoker(name, url, transport) for name, url in urls.items()}
    options = SagaOptions(
        compensation_retry=RetrySchedule(attempts=12), forward_retry=RetrySchedule(attempts=12)
    )
    # Only events inside a saga count, so every kill leaves one unfinished.
    log = KillableLog(log_path, switch, only_inside_sagas=True)
    runner = SagaRunner(log, options=options, clock=FakeClock(), rng=random.Random(seed))
    for n in range(MAX_SAGAS):
        rng = random.Random(seed * 1000 + n)
        runner.run(
            "place-order",
            lambda saga: place_order(saga, services, rng, transport, n % 6),
            saga_id=f"{seed}-{n:03d}",
        )
    return 3  # never killed: the kill point was too late


if __name__ == "__main__":
    raise SystemExit(main())
