"""Runs order sagas against the example services until it SIGKILLs itself at event ``kill_at``.

Usage: crash_services_worker.py LOG ORDERS_URL INVENTORY_URL PAYMENTS_URL SEED KILL_AT.
Events are every saga-log write and the moments just before a request leaves
and just after its answer arrives, so the kill lands before a call, mid-call
(the service applied it, the answer was never logged), or between log writes.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from order_saga import place_order
from spec_invoker import FaultyTransport, SpecInvoker

from seawall_runtime import FakeClock
from seawall_runtime.saga import RetrySchedule, SagaOptions, SagaRecord, SagaRunner, SqliteSagaLog, StepRecord

MAX_SAGAS = 500


def main() -> int:
    log_path, orders, inventory, payments, seed_text, kill_text = sys.argv[1:7]
    seed, kill_at = int(seed_text), int(kill_text)
    events = 0

    def tick() -> None:
        nonlocal events
        events += 1
        if events >= kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    class KillableLog(SqliteSagaLog):
        def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
            super().write(saga, step)
            if step is not None or (saga is not None and saga.state in ("running", "compensating")):
                tick()  # only inside a saga, so every kill leaves one unfinished

    transport = FaultyTransport(rate=0.03, seed=seed, tick=tick)
    urls = {"orders": orders, "inventory": inventory, "payments": payments}
    services = {name: SpecInvoker(name, url, transport) for name, url in urls.items()}
    options = SagaOptions(compensation_retry=RetrySchedule(attempts=12), forward_retry=RetrySchedule(attempts=12))
    runner = SagaRunner(KillableLog(log_path), options=options, clock=FakeClock(), rng=random.Random(seed))
    for n in range(MAX_SAGAS):
        rng = random.Random(seed * 1000 + n)
        runner.run("place-order", lambda saga: place_order(saga, services, rng, transport, n % 6), saga_id=f"{seed}-{n:03d}")
    return 3  # never killed: the kill point was too late


if __name__ == "__main__":
    raise SystemExit(main())
