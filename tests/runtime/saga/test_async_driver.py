"""The async driver: same state machine, awaited invokers, anyio task group for parallel undo."""

from __future__ import annotations

import random

import pytest
from saga_fakes import AsyncScripted, Call, ScriptedInvoker, undoable

from seawall_runtime import FakeClock, RequestTimeout
from seawall_runtime.saga import (
    AsyncSagaRunner,
    Compensated,
    Completed,
    InMemorySagaLog,
    RetrySchedule,
    SagaCompensated,
    SagaOptions,
    StepResult,
)

pytestmark = pytest.mark.anyio


def services(journal: list[Call], **scripts: dict[str, list[object]]) -> dict[str, AsyncScripted]:
    specs = {
        "orders": ("create", "cancel"),
        "inventory": ("reserve", "release"),
        "payments": ("charge", "refund"),
    }
    return {
        name: AsyncScripted(ScriptedInvoker(name, {op: undoable(op, undo)}, scripts.get(name), journal))  # type: ignore[arg-type]
        for name, (op, undo) in specs.items()
    }


async def test_async_saga_completes() -> None:
    journal: list[Call] = []
    invokers = services(journal)
    runner = AsyncSagaRunner(InMemorySagaLog(), clock=FakeClock())
    async with runner.saga("place-order") as saga:
        order = await saga.step(invokers["orders"], "create", {"body": {}})
        await saga.step(invokers["payments"], "charge", {"body": {"order": order.body}})
    assert isinstance(saga.outcome, Completed)
    assert [c.operation for c in journal] == ["create", "charge"]


@pytest.mark.parametrize("parallel", [False, True])
async def test_async_rollback_with_retries_on_the_fake_clock(parallel: bool) -> None:
    journal: list[Call] = []
    invokers = services(
        journal,
        orders={"cancel": [StepResult(503), StepResult(200)]},
        payments={"charge": [RequestTimeout("t"), StepResult(402)]},
    )
    clock = FakeClock()
    options = SagaOptions(
        parallel_compensations=parallel, compensation_retry=RetrySchedule(attempts=3, initial=2.0)
    )
    runner = AsyncSagaRunner(InMemorySagaLog(), clock=clock, options=options, rng=random.Random(3))
    with pytest.raises(SagaCompensated) as raised:
        async with runner.saga("s") as saga:
            for name, op in (
                ("orders", "create"),
                ("inventory", "reserve"),
                ("payments", "charge"),
            ):
                await saga.step(invokers[name], op, {})
    outcome = raised.value.outcome
    # The charge's answer was lost; asked again it was declined: never applied, nothing to refund.
    assert [s.state for s in outcome.steps] == ["compensated", "compensated", "compensated"]
    undos = [c.operation for c in journal if c.operation in ("cancel", "release", "refund")]
    if parallel:
        assert sorted(undos) == ["cancel", "cancel", "release"]
    else:
        assert undos == ["release", "cancel", "cancel"]  # reverse order; cancel retried once
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 2.0


async def test_async_run_returns_the_outcome() -> None:
    journal: list[Call] = []
    invokers = services(journal, inventory={"reserve": [StepResult(409)]})
    runner = AsyncSagaRunner(InMemorySagaLog(), clock=FakeClock())

    async def body(saga: object) -> None:
        await saga.step(invokers["orders"], "create", {})  # type: ignore[attr-defined]
        await saga.step(invokers["inventory"], "reserve", {})  # type: ignore[attr-defined]

    outcome = await runner.run("s", body)
    assert isinstance(outcome, Compensated) and "HTTP 409" in outcome.cause
