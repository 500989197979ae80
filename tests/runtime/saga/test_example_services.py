"""Many concurrent order sagas against the real example services, with faults injected.

The services run on loopback (uvicorn, SQLite); the invokers are built from
specs/ (a stand-in for generated clients) and call through the runtime's
ResilientClient over a transport that refuses connections, loses answers after
the effect, or answers 503. Business failures are real: stock runs out and
some cards are declined. Afterwards every saga is fully applied (order
confirmed, reservation active, charge kept) or fully compensated (order
cancelled, reservation released, charge refunded), and the services'
cross-database invariants hold.
"""

from __future__ import annotations

import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from order_saga import place_order
from spec_invoker import FaultyTransport, SpecInvoker

from seawall.examples.invariants import check_invariants
from seawall.examples.testing import running_services
from seawall_runtime import FakeClock
from seawall_runtime.saga import (
    Compensated,
    Completed,
    RetrySchedule,
    SagaOptions,
    SagaOutcome,
    SagaRunner,
    SqliteSagaLog,
)

SAGAS = 24
STOCK = 12


def test_concurrent_order_sagas_with_faults_end_applied_or_compensated(tmp_path: Path) -> None:
    transport = FaultyTransport(rate=0.04, seed=11)
    options = SagaOptions(
        compensation_retry=RetrySchedule(attempts=12), forward_retry=RetrySchedule(attempts=12)
    )
    log = SqliteSagaLog(tmp_path / "sagas.db")
    runner = SagaRunner(log, options=options, clock=FakeClock(), rng=random.Random(5))
    with running_services(tmp_path, stock=STOCK) as urls:
        services = {name: SpecInvoker(name, url, transport) for name, url in urls.items()}

        def one(n: int) -> SagaOutcome:
            rng = random.Random(1000 + n)
            body = lambda saga: place_order(saga, services, rng, transport, n % 6)  # noqa: E731
            return runner.run("place-order", body, saga_id=f"order-{n:02d}")

        with ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(one, range(SAGAS)))
        for invoker in services.values():
            invoker.close()

    kinds = {type(o).__name__ for o in outcomes}
    # An unknown outcome before the pivot, or a failing orchestration, always rolls back.
    for n, outcome in enumerate(outcomes):
        if n % 6 in (0, 1, 2, 4):
            assert isinstance(outcome, Compensated), outcome
    assert kinds <= {"Completed", "Compensated"}, [
        o for o in outcomes if not isinstance(o, (Completed, Compensated))
    ]
    # The run is only meaningful if both endings and the faults actually happened.
    assert kinds == {"Completed", "Compensated"}
    assert sum(transport.injected.values()) > 5, transport.injected

    report = check_invariants(
        tmp_path / "orders.db", tmp_path / "inventory.db", tmp_path / "payments.db"
    )
    assert report.ok, str(report)
    assert report.refunds > 0 and report.orders_by_status.get("confirmed", 0) > 0
    with sqlite3.connect(tmp_path / "orders.db") as db:
        statuses = dict(db.execute("SELECT customer_id, status FROM orders").fetchall())
    for outcome in outcomes:
        status = statuses.get(outcome.saga_id)
        if isinstance(outcome, Completed):
            assert status == "confirmed", outcome
        else:
            assert status in (None, "cancelled"), (outcome, status)
    # Each saga created at most one order, however often its calls were retried.
    with sqlite3.connect(tmp_path / "orders.db") as db:
        per_customer = db.execute(
            "SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id"
        ).fetchall()
    assert all(count == 1 for _, count in per_customer)
    assert log.sagas({"running", "compensating", "needs_attention"}) == []
