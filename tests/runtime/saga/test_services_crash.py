"""SIGKILL an orchestrator mid-way through order sagas against the real example services, then recover.

The services keep running (they are other processes' business); only the
orchestrating subprocess dies. Recovery in this process, with fresh clients
built from the specs, must leave every saga fully applied or fully
compensated, and the services' cross-database invariants must hold.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from kill_switch import run_until_killed
from spec_invoker import FaultyTransport, SpecInvoker

from seawall.examples.invariants import check_invariants
from seawall.examples.testing import running_services
from seawall_runtime import FakeClock
from seawall_runtime.saga import SagaRunner, SqliteSagaLog


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_orchestrator_killed_then_recovered(tmp_path: Path, seed: int) -> None:
    log_path = tmp_path / "sagas.db"
    kill_at = random.Random(seed).randint(10, 300)
    with running_services(tmp_path, stock=15) as urls:
        run_until_killed(
            "crash_services_worker.py",
            log_path,
            urls["orders"],
            urls["inventory"],
            urls["payments"],
            seed,
            kill_at,
        )

        log = SqliteSagaLog(log_path, create=False)
        unfinished = {s.saga_id for s in log.sagas({"running", "compensating"})}
        assert unfinished, "the worker is killed inside a saga"
        transport = FaultyTransport(rate=0.0, seed=seed)
        services = {name: SpecInvoker(name, url, transport) for name, url in urls.items()}
        outcomes = SagaRunner(log, clock=FakeClock()).recover(services)
        for invoker in services.values():
            invoker.close()

    assert {o.saga_id for o in outcomes} == unfinished
    assert log.sagas({"running", "compensating", "needs_attention"}) == [], outcomes
    report = check_invariants(
        tmp_path / "orders.db", tmp_path / "inventory.db", tmp_path / "payments.db"
    )
    assert report.ok, str(report)
    with sqlite3.connect(tmp_path / "orders.db") as db:
        orders = db.execute("SELECT customer_id, status FROM orders").fetchall()
    statuses = dict(orders)
    assert len(statuses) == len(orders)  # one order per saga, however often it was retried
    for record in log.sagas():
        status = statuses.get(record.saga_id)
        if record.state == "completed":
            assert status == "confirmed", record
        else:
            assert status in (None, "cancelled"), (record, status)
    log.close()
