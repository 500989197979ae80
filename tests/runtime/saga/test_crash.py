"""Crash recovery for real: a subprocess running sagas is SIGKILLed, then recovery runs.

Afterwards every saga in the log is completed (all three resources active) or
compensated (none active), each step was applied at most once per
idempotency key, and recovery repeated only keys the log already held.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from saga_ledger import Ledger, run_ledger_worker

from seawall_runtime import FakeClock
from seawall_runtime.saga import Compensated, RetrySchedule, SagaOptions, SagaRunner, SqliteSagaLog

SEEDS = range(1, 9)


@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_at_a_random_point_then_recover(tmp_path: Path, seed: int) -> None:
    log_path, ledger_path = tmp_path / "sagas.db", tmp_path / "ledger.db"
    run_ledger_worker(log_path, ledger_path, seed)

    log = SqliteSagaLog(log_path, create=False)
    keys_before = {
        key
        for record in log.sagas()
        for step in log.load(record.saga_id)[1]
        for key in (step.idempotency_key, step.compensation_key)
        if key is not None
    }
    unfinished = [s.saga_id for s in log.sagas({"running", "compensating"})]
    assert unfinished, "the worker is killed inside a saga"
    ledger = Ledger(ledger_path)
    invokers = ledger.invokers()
    runner = SagaRunner(
        log, clock=FakeClock(), options=SagaOptions(compensation_retry=RetrySchedule(attempts=3))
    )
    outcomes = runner.recover(invokers)

    # The killed worker's last saga (at least) was unfinished and is now compensated.
    assert sorted(o.saga_id for o in outcomes) == sorted(unfinished)
    assert all(isinstance(o, Compensated) for o in outcomes), outcomes
    assert log.sagas({"running", "compensating", "needs_attention"}) == []

    active: dict[str, set[str]] = defaultdict(set)
    for service, saga, state in ledger.resources():
        if state == "active":
            active[saga].add(service)
    for record in log.sagas():
        expected = {"orders", "inventory", "payments"} if record.state == "completed" else set()
        assert active.get(record.saga_id, set()) == expected, (record, active.get(record.saga_id))

    # Each resource comes from one request key; recovery only repeated logged keys.
    assert len(ledger.creating_keys()) == len(ledger.resources())
    recovery_keys = {key for invoker in invokers.values() for op, key in invoker.calls}
    assert recovery_keys <= keys_before | {
        step.compensation_key
        for outcome in outcomes
        if isinstance(outcome, Compensated)
        for step in outcome.steps
        if step.compensation_key
    }
    assert {
        key for invoker in invokers.values() for op, key in invoker.calls if op == "create"
    } <= keys_before
    log.close()
