"""Runs order sagas against the ledger until it kills itself with SIGKILL at event ``kill_at``.

Usage: crash_worker.py LOG LEDGER SEED KILL_AT. Events are every log write and
the moments just before and just after the ledger applies a request, so the
kill lands anywhere: before a call, mid-call (applied, answer not logged),
between log writes, during compensation.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from kill_switch import KillableLog, KillSwitch
from saga_ledger import Fault, Ledger

from seawall_runtime import FakeClock
from seawall_runtime.saga import RetrySchedule, SagaAborted, SagaOptions, SagaRunner

MAX_SAGAS = 2000


def main() -> int:
    log_path, ledger_path, seed, kill_at = (
        sys.argv[1],
        Path(sys.argv[2]),
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    rng = random.Random(seed)
    switch = KillSwitch(kill_at)

    def faults(service: str, operation: str) -> Fault | None:
        roll = rng.random()
        if operation == "create":
            return (
                "refuse"
                if roll < 0.1
                else "lose" if roll < 0.2 else "down" if roll < 0.25 else None
            )
        return "down" if roll < 0.2 else None

    ledger = Ledger(ledger_path, tick=switch.tick)
    services = ledger.invokers(faults)
    options = SagaOptions(compensation_retry=RetrySchedule(attempts=50, initial=0.01))
    runner = SagaRunner(KillableLog(log_path, switch), options=options, clock=FakeClock(), rng=rng)
    for n in range(MAX_SAGAS):
        try:
            with runner.saga("place-order", saga_id=f"{seed}-{n}") as saga:
                for name in ("orders", "inventory", "payments"):
                    saga.step(services[name], "create", {"body": {"saga": saga.saga_id}})
        except SagaAborted:
            pass
    return 3  # never killed: the test's kill point was too late


if __name__ == "__main__":
    raise SystemExit(main())
