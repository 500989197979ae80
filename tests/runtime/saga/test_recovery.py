"""Recovery: sagas left unfinished by a crashed orchestrator are driven to an end.

A crash is simulated in-process by an invoker raising a BaseException (the
driver neither catches nor rolls back on those), and for real in
test_crash.py by SIGKILL.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from saga_fakes import AsyncScripted, ScriptedInvoker, undoable

from seawall_runtime import FakeClock
from seawall_runtime.saga import (
    AsyncSaga,
    Compensated,
    Completed,
    InMemorySagaLog,
    NeedsAttention,
    OperationRef,
    RetrySchedule,
    Saga,
    SagaLogError,
    SagaOptions,
    SagaRecord,
    SagaRunner,
    SagaStateError,
    StepRecord,
    StepResult,
)
from seawall_runtime.saga.machine import SagaMachine
from seawall_runtime.saga.driver import AsyncSagaRunner
from seawall_runtime.saga.ownership import abandoned, new_owner


class Crash(BaseException):
    """Stands for the process dying at this point."""


def crash(_: object) -> StepResult:
    raise Crash


def services(
    script_orders: dict[str, list[object]] | None = None,
    script_payments: dict[str, list[object]] | None = None,
) -> dict[str, ScriptedInvoker]:
    return {
        "orders": ScriptedInvoker("orders", {"create": undoable("create", "cancel")}, script_orders),  # type: ignore[arg-type]
        "payments": ScriptedInvoker("payments", {"charge": undoable("charge", "refund")}, script_payments),  # type: ignore[arg-type]
        "shipping": ScriptedInvoker("shipping", {"ship": OperationRef("ship", idempotent=True)}),
    }


def crashed_saga(
    log: InMemorySagaLog,
    invokers: dict[str, ScriptedInvoker],
    plan: list[tuple[str, str]],
    options: SagaOptions = SagaOptions(),
) -> str:
    runner = SagaRunner(log, clock=FakeClock(), options=options, owner="elsewhere:1:dead")
    saga = runner.saga("place-order")
    with pytest.raises(Crash):
        with saga:
            for service, operation in plan:
                saga.step(invokers[service], operation, {"body": {"n": 1}})
    assert log.load(saga.saga_id)[0].state in ("running", "compensating")
    return saga.saga_id


def recoverer(log: InMemorySagaLog, **options: object) -> SagaRunner:
    return SagaRunner(log, clock=FakeClock(), rng=random.Random(1), options=SagaOptions(**options))  # type: ignore[arg-type]


def test_crash_mid_call_is_compensated_with_the_persisted_keys() -> None:
    log = InMemorySagaLog()
    invokers = services(script_payments={"charge": [crash]})
    saga_id = crashed_saga(log, invokers, [("orders", "create"), ("payments", "charge")])
    _, before = log.load(saga_id)
    assert [s.state for s in before] == ["succeeded", "started"]

    fresh = services()  # a new process has new clients
    outcomes = recoverer(log).recover(fresh, stale_after=0)
    assert len(outcomes) == 1 and isinstance(outcomes[0], Compensated)
    # The in-flight charge was asked again with its own key, then refunded;
    # the order was cancelled with the compensation key logged when it succeeded.
    charge, refund = fresh["payments"].calls
    assert (charge.operation, charge.idempotency_key) == ("charge", before[1].idempotency_key)
    assert refund.operation == "refund" and refund.arguments == {"path": {"id": "charge-1"}}
    (cancel,) = fresh["orders"].calls
    assert cancel.idempotency_key == before[0].compensation_key
    assert cancel.arguments == before[0].compensation_arguments
    assert log.load(saga_id)[0].state == "compensated"
    assert recoverer(log).recover(fresh, stale_after=0) == []


def test_crash_during_rollback_resumes_without_redoing_finished_compensations() -> None:
    log = InMemorySagaLog()
    invokers = services(
        script_orders={"cancel": [crash]}, script_payments={"charge": [StepResult(400)]}
    )
    invokers["payments"].operations["pay2"] = undoable("pay2", "refund")
    saga_id = crashed_saga(
        log, invokers, [("orders", "create"), ("payments", "pay2"), ("payments", "charge")]
    )
    _, before = log.load(saga_id)
    assert [s.state for s in before] == ["compensating", "compensated", "failed"]
    fresh = services()
    (outcome,) = recoverer(log).recover(fresh, stale_after=0)
    assert isinstance(outcome, Compensated)
    assert fresh["payments"].calls == []
    assert [(c.operation, c.idempotency_key) for c in fresh["orders"].calls] == [
        ("cancel", before[0].compensation_key)
    ]


def test_crash_after_the_pivot_finishes_the_in_flight_step_and_asks_for_attention() -> None:
    log = InMemorySagaLog()
    invokers = services(script_payments={"charge": [crash]})
    saga_id = crashed_saga(
        log, invokers, [("orders", "create"), ("shipping", "ship"), ("payments", "charge")]
    )
    fresh = services(script_payments={"charge": [StepResult(503)]})
    (outcome,) = recoverer(log, forward_retry=RetrySchedule(attempts=3)).recover(
        fresh, stale_after=0
    )
    assert isinstance(outcome, NeedsAttention)
    assert "after the pivot" in outcome.reason and "by hand" in outcome.reason
    assert [s.state for s in outcome.done] == ["succeeded", "succeeded", "succeeded"]
    assert len(fresh["payments"].calls) == 2  # 503, then success, same key
    assert fresh["orders"].calls == []  # nothing undone past the pivot
    assert log.load(saga_id)[0].state == "needs_attention"


@pytest.mark.parametrize(
    ("answer", "expected"), [(StepResult(422), Compensated), (StepResult(200), NeedsAttention)]
)
def test_crash_mid_pivot_settles_the_pivot_first(answer: StepResult, expected: type) -> None:
    log = InMemorySagaLog()
    invokers = services()
    invokers["shipping"].script["ship"] = [crash]
    crashed_saga(log, invokers, [("orders", "create"), ("shipping", "ship")])
    fresh = services()
    fresh["shipping"].script["ship"] = [answer]
    (outcome,) = recoverer(log).recover(fresh, stale_after=0)
    assert isinstance(outcome, expected)
    assert len(fresh["orders"].called("cancel")) == (1 if expected is Compensated else 0)


def test_needs_attention_is_retried_only_when_asked() -> None:
    log = InMemorySagaLog()
    invokers = services(
        script_orders={"cancel": [StepResult(503)] * 2},
        script_payments={"charge": [StepResult(400)]},
    )
    runner = SagaRunner(
        log, clock=FakeClock(), options=SagaOptions(compensation_retry=RetrySchedule(attempts=2))
    )
    outcome = runner.run(
        "s",
        lambda saga: [
            saga.step(invokers[s], op, {})
            for s, op in [("orders", "create"), ("payments", "charge")]
        ],
    )
    assert isinstance(outcome, NeedsAttention)
    fresh = services()
    assert recoverer(log).recover(fresh) == []
    (again,) = recoverer(log).recover(fresh, retry_needs_attention=True)
    assert isinstance(again, Compensated)
    assert (
        fresh["orders"].calls[0].idempotency_key
        == invokers["orders"].called("cancel")[0].idempotency_key
    )


def test_live_sagas_and_finished_sagas_are_left_alone() -> None:
    log = InMemorySagaLog()
    invokers = services()
    live = SagaRunner(log, clock=FakeClock())  # this very process: alive
    running = live.saga("s")
    running.step(invokers["orders"], "create", {})
    live.run("done", lambda saga: saga.step(invokers["orders"], "create", {}))
    assert recoverer(log).recover(services()) == []
    assert live.recover(services(), stale_after=0) == []  # never from under its own runner
    done = next(s for s in log.sagas() if s.name == "done")
    with pytest.raises(SagaStateError, match="already ended completed"):
        SagaMachine(done, clock=lambda: 0.0).recover("x").send(None)
    # A stale saga may be taken over when the caller says how old is stale.
    (outcome,) = recoverer(log).recover(services(), stale_after=0)
    assert isinstance(outcome, Compensated) and outcome.saga_id == running.saga_id


def test_recovery_without_the_service_invoker_is_a_clear_error() -> None:
    log = InMemorySagaLog()
    crashed_saga(
        log,
        services(script_payments={"charge": [crash]}),
        [("orders", "create"), ("payments", "charge")],
    )
    with pytest.raises(SagaStateError, match="no invoker for service 'payments'"):
        recoverer(log).recover({"orders": services()["orders"]}, stale_after=0)


def test_an_owner_is_abandoned_once_its_process_is_gone() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(child.stdout)
    host = new_owner().split(":")[0]
    from seawall_runtime.saga import SagaRecord

    def record(owner: str, updated: float = 100.0, state: str = "running") -> SagaRecord:
        return SagaRecord("x", "n", state, owner, 0.0, updated)  # type: ignore[arg-type]

    assert abandoned(record(f"{host}:{dead_pid}:n"), now=100.0, stale_after=None)
    assert not abandoned(record(new_owner()), now=100.0, stale_after=None)
    assert not abandoned(record(f"other-host:{dead_pid}:n"), now=100.0, stale_after=None)
    assert abandoned(record(f"other-host:{dead_pid}:n"), now=200.0, stale_after=60)
    assert abandoned(record(new_owner(), state="needs_attention"), now=100.0, stale_after=None)
    # This process's pid with another start time: the pid was recycled, the owner is gone.
    _, pid, start, _ = new_owner().split(":")
    assert start, "process start times are read from /proc on Linux"
    assert abandoned(record(f"{host}:{pid}:{int(start) - 1}:n"), now=100.0, stale_after=None)


@pytest.mark.anyio
async def test_async_recovery() -> None:
    log = InMemorySagaLog()
    saga_id = crashed_saga(
        log,
        services(script_payments={"charge": [crash]}),
        [("orders", "create"), ("payments", "charge")],
    )
    fresh = services()
    runner = AsyncSagaRunner(log, clock=FakeClock())
    (outcome,) = await runner.recover(
        {k: AsyncScripted(v) for k, v in fresh.items()}, stale_after=0
    )
    assert isinstance(outcome, Compensated) and outcome.saga_id == saga_id
    assert [c.operation for c in fresh["payments"].calls] == ["charge", "refund"]


def test_a_crash_after_the_final_step_completes_the_saga() -> None:
    log = InMemorySagaLog()
    invokers = services()
    runner = SagaRunner(log, clock=FakeClock(), owner="elsewhere:1:dead")
    saga = runner.saga("s")
    saga.step(invokers["orders"], "create", {})
    saga.step(invokers["payments"], "charge", {}, final=True)
    # The process dies before the `with` block could record "completed".
    (outcome,) = recoverer(log).recover(services(), stale_after=0)
    assert isinstance(outcome, Completed)
    assert log.load(saga.saga_id)[0].state == "completed"


def test_a_final_pivot_in_flight_is_finished_and_completes_the_saga() -> None:
    log = InMemorySagaLog()
    invokers = services()
    invokers["shipping"].script["ship"] = [crash]
    runner = SagaRunner(log, clock=FakeClock(), owner="elsewhere:1:dead")
    saga = runner.saga("s")
    saga.step(invokers["orders"], "create", {})
    with pytest.raises(Crash):
        saga.step(invokers["shipping"], "ship", {}, final=True)
    fresh = services()
    (outcome,) = recoverer(log).recover(fresh, stale_after=0)
    assert isinstance(outcome, Completed)
    assert [c.operation for c in fresh["shipping"].calls] == ["ship"]
    assert fresh["orders"].calls == []


class LogThatBreaks(InMemorySagaLog):
    """A log whose writes start failing on demand (a full disk, a lost database)."""

    broken = False
    refused = 0  # writes attempted while broken

    def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
        if self.broken:
            self.refused += 1
            raise SagaLogError("disk full")
        super().write(saga, step)


def test_run_leaves_a_saga_whose_log_failed_to_recovery() -> None:
    log = LogThatBreaks()
    invokers = services()

    def body(saga: Saga) -> None:
        saga.step(invokers["orders"], "create", {"body": {"n": 1}})
        log.broken = True
        saga.step(invokers["payments"], "charge", {"body": {"n": 1}})

    with pytest.raises(SagaLogError, match="disk full"):
        recoverer(log).run("place-order", body)
    # No rollback was attempted through the broken log: the saga is still running,
    # and recovery (with a working log) undoes the order.
    (record,) = log.sagas()
    assert record.state == "running" and invokers["orders"].called("cancel") == []
    assert log.refused == 1  # the step's record; no rollback record was tried
    log.broken = False
    (outcome,) = recoverer(log).recover(services(), stale_after=0, saga_ids=[record.saga_id])
    assert isinstance(outcome, Compensated)


@pytest.mark.anyio
async def test_async_run_leaves_a_saga_whose_log_failed_to_recovery() -> None:
    log = LogThatBreaks()
    invokers = {name: AsyncScripted(invoker) for name, invoker in services().items()}

    async def body(saga: AsyncSaga) -> None:
        await saga.step(invokers["orders"], "create", {"body": {"n": 1}})
        log.broken = True
        await saga.step(invokers["payments"], "charge", {"body": {"n": 1}})

    runner = AsyncSagaRunner(log, clock=FakeClock(), rng=random.Random(1))
    with pytest.raises(SagaLogError, match="disk full"):
        await runner.run("place-order", body)
    (record,) = log.sagas()
    assert record.state == "running" and log.refused == 1
