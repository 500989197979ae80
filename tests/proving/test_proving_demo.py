"""``seawall demo`` as a user runs it: a subprocess, its report, its exit status, no leftovers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

from seawall_runtime.saga import SqliteSagaLog


def test_demo_runs_ten_orders_reports_and_leaves_no_process(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "demo", "--orders", "10", "--seed", "3", "--keep", str(keep)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    assert "seawall demo: 10 orders" in out
    for label in ("requests", "retries", "budget refusals", "breaker openings", "fallbacks served"):
        assert re.search(rf"{label} \d+", out), (label, out)
    assert "charges per order at most one:  ok" in out
    assert "stock levels consistent:        ok" in out
    assert "orders without payment:         0" in out
    assert "result: all invariants hold" in out
    assert "services up behind fault injection" in err

    # Every order ran as a saga, logged in the work dir, and the report counts them as logged.
    counts = re.search(r"sagas:\s+(\d+) completed, (\d+) compensated .*, (\d+) need attention", out)
    assert counts, out
    with closing(SqliteSagaLog(keep / "sagas.db")) as log:
        states = Counter(saga.state for saga in log.sagas())
    assert sum(states.values()) == 10
    logged = (states["completed"], states["compensated"], states["needs_attention"])
    assert tuple(int(n) for n in counts.groups()) == logged, (states, out)
    assert states["compensated"] >= 1  # seed 3 declines a card: that saga is undone

    # The services wrote their databases, and none of them outlived the demo.
    assert {p.name for p in (keep / "run").glob("*.db")} == {"orders.db", "inventory.db", "payments.db"}
    leftovers = subprocess.run(
        ["pgrep", "-f", f"seawall.examples.serve .*{keep}"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == "", leftovers.stdout


def test_demo_rejects_a_bad_order_count() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "demo", "--orders", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--orders must be between 1 and 10000" in done.stderr


def test_report_counts_saga_outcomes_and_names_sagas_needing_attention() -> None:
    from seawall.examples.apps import SERVICE_NAMES, ServiceName
    from seawall.examples.demo import DemoRun, OrderPlan, OrderResult, Tally, format_report
    from seawall.examples.invariants import InvariantReport

    plan = OrderPlan("customer-000", (("KB-001", 1),), "tok_visa")
    results = [
        OrderResult(plan, "confirmed", saga_id="s-1"),
        OrderResult(plan, "rolled-back", saga_id="s-2"),
        OrderResult(plan, "needs-attention", saga_id="s-3", attention="the compensation kept failing"),
    ]
    tallies: dict[ServiceName, Tally] = {name: Tally() for name in SERVICE_NAMES}
    run = DemoRun(results, tallies, {"orders": 0}, {}, InvariantReport(()), 1.0)
    report = format_report(run)
    assert "sagas:       1 completed, 1 compensated" in report
    assert ", 1 need attention\n" in report
    assert "  saga s-3: the compensation kept failing" in report


def test_a_refused_step_is_reported_as_the_api_error_it_answered() -> None:
    from seawall.examples.demo import _failure
    from seawall_runtime import ApiError
    from seawall_runtime.saga import StepFailed, StepRecord, StepResult

    step = StepRecord(
        saga_id="s-1", index=1, service="inventory_client", operation="createReservation",
        arguments={}, idempotency_key="k", idempotent=True, compensation=None,
    )
    refused = StepFailed(step, "HTTP 409", unknown=False)
    refused.result = StepResult(409)
    failure = _failure(refused)
    assert failure.step == "inventory.createReservation"
    assert isinstance(failure.error, ApiError) and failure.error.status == 409
    assert "createReservation" in str(failure.error)
