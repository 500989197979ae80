"""The saga state machine through the sync driver: in-memory log, fake clock, scripted services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from saga_fakes import Call, ScriptedInvoker, undoable

from seawall_runtime import ApiError, ConnectError, FakeClock, RequestTimeout
from seawall_runtime.saga import (
    Compensated,
    CompensationSpec,
    CompensationUnavailable,
    Completed,
    InMemorySagaLog,
    NeedsAttention,
    OperationRef,
    RetrySchedule,
    Saga,
    SagaCompensated,
    SagaNeedsAttention,
    SagaOptions,
    SagaRunner,
    SagaStateError,
    SagaWarning,
    StepFailed,
    StepResult,
)

STEPS = [
    ("orders", "create", "cancel"),
    ("inventory", "reserve", "release"),
    ("payments", "charge", "refund"),
]


@dataclass
class World:
    runner: SagaRunner
    log: InMemorySagaLog
    clock: FakeClock
    services: dict[str, ScriptedInvoker]
    journal: list[Call]

    def run_order(self, saga: Saga) -> None:
        for service, operation, _ in STEPS:
            saga.step(self.services[service], operation, {"body": {"item": "x"}})

    def undo_calls(self) -> list[tuple[str, str]]:
        undos = {undo for _, _, undo in STEPS}
        return [(c.service, c.operation) for c in self.journal if c.operation in undos]


def make_world(options: SagaOptions = SagaOptions(), **scripts: dict[str, list[Any]]) -> World:
    journal: list[Call] = []
    services = {
        service: ScriptedInvoker(service, {op: undoable(op, undo)}, scripts.get(service), journal)
        for service, op, undo in STEPS
    }
    log = InMemorySagaLog()
    clock = FakeClock()
    runner = SagaRunner(log, options=options, clock=clock, rng=random.Random(7))
    return World(runner, log, clock, services, journal)


def test_all_steps_succeed_and_compensations_are_prepared() -> None:
    world = make_world()
    with world.runner.saga("place-order") as saga:
        world.run_order(saga)
    assert isinstance(saga.outcome, Completed)
    record, steps = world.log.load(saga.saga_id)
    assert record.state == "completed"
    assert [s.state for s in steps] == ["succeeded"] * 3
    # The compensation's arguments were evaluated from each response, with their own keys.
    assert steps[0].compensation_arguments == {"path": {"id": "create-1"}}
    assert steps[2].compensation_arguments == {"path": {"id": "charge-1"}}
    keys = {s.idempotency_key for s in steps} | {s.compensation_key for s in steps}
    assert len(keys) == 6
    assert world.undo_calls() == []


@pytest.mark.parametrize("failing", [0, 1, 2])
def test_definite_failure_at_each_step_undoes_the_earlier_steps_in_reverse(failing: int) -> None:
    service, operation, _ = STEPS[failing]
    world = make_world(SagaOptions(), **{service: {operation: [StepResult(409, {"error": "no"})]}})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("place-order") as saga:
            world.run_order(saga)
    outcome = raised.value.outcome
    assert isinstance(outcome, Compensated)
    assert isinstance(raised.value.__cause__, StepFailed)
    assert "HTTP 409" in outcome.cause
    expected = [(s, undo) for s, _, undo in reversed(STEPS[:failing])]
    assert world.undo_calls() == expected
    states = [s.state for s in outcome.steps]
    assert states == ["compensated"] * failing + ["failed"]
    assert world.log.load(saga.saga_id)[0].state == "compensated"


@pytest.mark.parametrize("failing", [0, 1, 2])
def test_unknown_outcome_is_compensated_too(failing: int) -> None:
    service, operation, undo = STEPS[failing]
    world = make_world(
        SagaOptions(),
        **{service: {operation: [RequestTimeout("timed out"), StepResult(201, {"id": "late"})]}},
    )
    with pytest.raises(SagaCompensated):
        with world.runner.saga("place-order") as saga:
            world.run_order(saga)
    # The lost answer was asked for again with the same key, then undone.
    calls = world.services[service].called(operation)
    assert len(calls) == 2 and calls[0].idempotency_key == calls[1].idempotency_key
    undone = world.services[service].called(undo)
    assert [c.arguments for c in undone] == [{"path": {"id": "late"}}]
    assert world.undo_calls()[0] == (service, undo)
    assert len(world.undo_calls()) == failing + 1


def test_unknown_step_with_request_only_template_needs_no_second_call() -> None:
    ref = undoable(
        "book",
        "unbook",
        template={"path": {"slot": "$request.body#/slot"}, "body": {"why": "rollback"}},
    )
    service = ScriptedInvoker("calendar", {"book": ref}, {"book": [StepResult(502)]})
    runner = SagaRunner(InMemorySagaLog(), clock=FakeClock())
    with pytest.raises(SagaCompensated):
        with runner.saga("s") as saga:
            saga.step(service, "book", {"body": {"slot": 9}})
    assert [c.operation for c in service.calls] == ["book", "unbook"]
    assert service.calls[1].arguments == {"path": {"slot": 9}, "body": {"why": "rollback"}}


def test_unknown_step_that_cannot_be_asked_again_needs_attention() -> None:
    ref = undoable("create", "cancel", idempotent=False)
    service = ScriptedInvoker("orders", {"create": ref}, {"create": [RequestTimeout("lost")]})
    runner = SagaRunner(InMemorySagaLog(), clock=FakeClock())
    with pytest.raises(SagaNeedsAttention) as raised:
        with runner.saga("s") as saga:
            saga.step(service, "create", {"body": {}})
    outcome = raised.value.outcome
    assert outcome.step is not None and outcome.step.operation == "create"
    assert outcome.last_error is not None and "not idempotent" in outcome.last_error
    assert [c.operation for c in service.calls] == ["create"]


def test_never_sent_request_is_not_compensated() -> None:
    world = make_world(payments={"charge": [ConnectError("refused")]})
    with pytest.raises(SagaCompensated):
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert world.services["payments"].called("refund") == []
    assert world.undo_calls() == [("inventory", "release"), ("orders", "cancel")]


def test_api_error_status_decides_like_a_response() -> None:
    error = ApiError("conflict", status=409)
    world = make_world(inventory={"reserve": [error]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert raised.value.outcome.steps[1].state == "failed"
    assert world.undo_calls() == [("orders", "cancel")]


def test_nothing_to_undo_counts_as_done() -> None:
    world = make_world(orders={"cancel": [StepResult(404)]}, payments={"charge": [StepResult(422)]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert [s.state for s in raised.value.outcome.steps] == ["compensated", "compensated", "failed"]


def test_compensation_is_retried_with_backoff_and_keeps_its_key() -> None:
    options = SagaOptions(
        compensation_retry=RetrySchedule(attempts=5, initial=1.0, multiplier=2.0, max_delay=3.0)
    )
    world = make_world(
        options,
        orders={
            "cancel": [StepResult(503), RequestTimeout("slow"), StepResult(503), StepResult(200)]
        },
        payments={"charge": [StepResult(400)]},
    )
    with pytest.raises(SagaCompensated):
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    cancels = world.services["orders"].called("cancel")
    assert len(cancels) == 4
    assert len({c.idempotency_key for c in cancels}) == 1
    assert (
        cancels[0].idempotency_key != world.services["orders"].called("create")[0].idempotency_key
    )
    # Full jitter below a capped exponential ceiling: 1, 2, then 3 (capped).
    assert len(world.clock.sleeps) == 3
    for delay, ceiling in zip(world.clock.sleeps, [1.0, 2.0, 3.0]):
        assert 0.0 <= delay <= ceiling


def test_compensation_that_keeps_failing_stops_the_rollback_and_needs_attention() -> None:
    options = SagaOptions(compensation_retry=RetrySchedule(attempts=3))
    world = make_world(
        options,
        inventory={"release": [StepResult(503)] * 3},
        payments={"charge": [StepResult(400)]},
    )
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    outcome = raised.value.outcome
    assert isinstance(outcome, NeedsAttention)
    assert outcome.step is not None and (outcome.step.service, outcome.step.operation) == (
        "inventory",
        "reserve",
    )
    assert outcome.last_error == "HTTP 503"
    assert "release" not in outcome.reason and "kept failing" in outcome.reason
    assert [s.state for s in outcome.done] == ["succeeded", "compensation_failed", "failed"]
    assert world.undo_calls() == [("inventory", "release")] * 3  # orders.cancel never ran
    assert world.log.load(saga.saga_id)[0].detail["step"] == 1


def test_continue_on_compensation_error_undoes_the_rest() -> None:
    options = SagaOptions(
        compensation_retry=RetrySchedule(attempts=2), continue_on_compensation_error=True
    )
    world = make_world(
        options,
        inventory={"release": [StepResult(503)] * 2},
        payments={"charge": [StepResult(400)]},
    )
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert [s.state for s in raised.value.outcome.done] == [
        "compensated",
        "compensation_failed",
        "failed",
    ]


def test_permanent_compensation_refusal_is_not_retried() -> None:
    world = make_world(
        orders={"cancel": [StepResult(409)]}, inventory={"reserve": [StepResult(400)]}
    )
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert len(world.services["orders"].called("cancel")) == 1
    assert raised.value.outcome.last_error == "HTTP 409"
    assert world.clock.sleeps == []


def test_parallel_compensations_undo_every_step() -> None:
    world = make_world(
        SagaOptions(parallel_compensations=True), payments={"charge": [StepResult(400)]}
    )
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert sorted(world.undo_calls()) == [("inventory", "release"), ("orders", "cancel")]
    assert [s.state for s in raised.value.outcome.steps] == ["compensated", "compensated", "failed"]


def test_an_exception_in_the_orchestration_rolls_back_and_is_chained() -> None:
    world = make_world()
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            raise LookupError("business rule broke")
    assert isinstance(raised.value.__cause__, LookupError)
    assert raised.value.outcome.cause == "LookupError: business rule broke"
    assert raised.value.outcome.error is raised.value.__cause__
    assert world.undo_calls() == [("orders", "cancel")]


def test_run_returns_the_outcome_instead_of_raising() -> None:
    world = make_world(inventory={"reserve": [StepResult(400)]})
    outcome = world.runner.run("s", world.run_order)
    assert isinstance(outcome, Compensated)
    assert isinstance(world.runner.run("s", world.run_order), Completed)


def test_caught_definite_failure_lets_the_saga_go_on() -> None:
    world = make_world(inventory={"reserve": [StepResult(409)]})
    with world.runner.saga("s") as saga:
        saga.step(world.services["orders"], "create", {})
        with pytest.raises(StepFailed) as failed:
            saga.step(world.services["inventory"], "reserve", {"body": {"warehouse": "a"}})
        assert not failed.value.unknown and failed.value.result == StepResult(409)
        saga.step(world.services["inventory"], "reserve", {"body": {"warehouse": "b"}})
    assert isinstance(saga.outcome, Completed)


def test_no_step_after_an_unknown_outcome() -> None:
    world = make_world(inventory={"reserve": [RequestTimeout("x"), StepResult(200, {"id": "r"})]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            with pytest.raises(StepFailed) as failed:
                saga.step(world.services["inventory"], "reserve", {})
            assert failed.value.unknown
            saga.step(world.services["payments"], "charge", {})
    assert isinstance(raised.value.__cause__, SagaStateError)
    assert world.services["payments"].calls == []


def test_policy_override_reaches_the_invoker() -> None:
    world = make_world()
    marker = object()
    with world.runner.saga("s") as saga:
        saga.step(world.services["orders"], "create", {}, policy=marker)
    assert world.services["orders"].calls[0].policy is marker


def test_missing_response_field_makes_the_step_uncompensatable() -> None:
    ref = undoable("create", "cancel", template={"path": {"id": "$response.body#/id"}})
    service = ScriptedInvoker(
        "orders", {"create": ref}, {"create": [StepResult(201, {"no_id": 1})] * 2}
    )
    runner = SagaRunner(InMemorySagaLog(), clock=FakeClock())
    with pytest.raises(SagaNeedsAttention) as raised:
        with runner.saga("s") as saga:
            saga.step(service, "create", {})
    assert isinstance(raised.value.__cause__, CompensationUnavailable)
    assert "no member 'id'" in (raised.value.outcome.last_error or "")


def test_a_step_after_the_saga_ended_is_refused() -> None:
    world = make_world()
    with world.runner.saga("s") as saga:
        pass
    with pytest.raises(SagaStateError):
        saga.step(world.services["orders"], "create", {})


# -- pivots ---------------------------------------------------------------------------

PIVOT = OperationRef("ship", idempotent=True)


def pivot_world(**ship_script: list[object]) -> tuple[World, ScriptedInvoker]:
    world = make_world(SagaOptions(forward_retry=RetrySchedule(attempts=4, initial=0.5)))
    shipping = ScriptedInvoker("shipping", {"ship": PIVOT}, ship_script)  # type: ignore[arg-type]
    return world, shipping


def test_steps_after_the_pivot_are_retried_forward_with_the_same_key() -> None:
    world, shipping = pivot_world()
    world.services["payments"].script["charge"] = [
        StepResult(503),
        RequestTimeout("t"),
        StepResult(201, {"id": "c"}),
    ]
    with world.runner.saga("s") as saga:
        saga.step(world.services["orders"], "create", {})
        saga.step(shipping, "ship", {})
        saga.step(world.services["payments"], "charge", {})
    assert isinstance(saga.outcome, Completed)
    charges = world.services["payments"].called("charge")
    assert len(charges) == 3 and len({c.idempotency_key for c in charges}) == 1
    assert len(world.clock.sleeps) == 2


def test_failure_after_the_pivot_needs_attention_and_undoes_nothing() -> None:
    world, shipping = pivot_world()
    world.services["payments"].script["charge"] = [StepResult(400)]
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            saga.step(shipping, "ship", {})
            saga.step(world.services["payments"], "charge", {})
    outcome = raised.value.outcome
    assert "pivot" in outcome.reason and "ship" in outcome.reason
    assert outcome.step is not None and outcome.step.operation == "charge"
    assert world.undo_calls() == []


def test_pivot_with_unknown_outcome_is_retried_then_rolled_back_when_refused() -> None:
    world, shipping = pivot_world(ship=[RequestTimeout("t"), StepResult(422)])
    with pytest.raises(SagaCompensated):
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            saga.step(shipping, "ship", {})
    assert len(shipping.calls) == 2
    assert world.undo_calls() == [("orders", "cancel")]


def test_pivot_whose_outcome_stays_unknown_needs_attention() -> None:
    world, shipping = pivot_world(ship=[StepResult(503)] * 4)
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            saga.step(shipping, "ship", {})
    assert "may have been applied" in raised.value.outcome.reason
    assert len(shipping.calls) == 4
    assert world.undo_calls() == []


def test_non_idempotent_step_after_the_pivot_is_flagged() -> None:
    world, shipping = pivot_world()
    risky = ScriptedInvoker("mail", {"send": OperationRef("send", idempotent=False)})
    with world.runner.saga("s") as saga:
        saga.step(shipping, "ship", {})
        with pytest.warns(SagaWarning, match="not idempotent"):
            saga.step(risky, "send", {})


def test_compensation_spec_is_taken_from_the_operation_ref() -> None:
    ref = OperationRef(
        "hold",
        idempotent=True,
        compensation=CompensationSpec("unhold", {"query": {"h": "$statusCode"}}),
    )
    service = ScriptedInvoker("s", {"hold": ref}, {"hold": [StepResult(201, None)]})
    runner = SagaRunner(InMemorySagaLog(), clock=FakeClock())
    outcome = runner.run("s", lambda saga: (saga.step(service, "hold"), 1 / 0))
    assert isinstance(outcome, Compensated)
    assert service.called("unhold")[0].arguments == {"query": {"h": 201}}


def test_a_refusal_after_client_retries_is_no_proof_and_is_compensated() -> None:
    world = make_world(
        payments={"charge": [StepResult(409, attempts=2), StepResult(201, {"id": "c-1"})]}
    )
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert raised.value.outcome.steps[2].state == "compensated"
    assert world.undo_calls() == [
        ("payments", "refund"),
        ("inventory", "release"),
        ("orders", "cancel"),
    ]


def test_a_409_to_a_repeat_means_in_flight_so_the_probe_tries_again() -> None:
    world = make_world(
        orders={"create": [RequestTimeout("t"), StepResult(409), StepResult(201, {"id": "o-1"})]}
    )
    with pytest.raises(SagaCompensated):
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert len(world.services["orders"].called("create")) == 3
    assert [c.arguments for c in world.services["orders"].called("cancel")] == [
        {"path": {"id": "o-1"}}
    ]
    assert len(world.clock.sleeps) == 1


def test_api_error_after_retries_is_unknown() -> None:
    error = ApiError("conflict", status=409, attempts=("first", "second"))  # type: ignore[arg-type]
    world = make_world(inventory={"reserve": [error, StepResult(404)]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    # Asked again with its key: 404 is a definite "never applied".
    assert raised.value.outcome.steps[1].state == "compensated"
    assert world.services["inventory"].called("release") == []


REPLAYED_409 = StepResult(409, {"error": "out of stock"}, {"Idempotent-Replayed": "true"})
LOST = RequestTimeout("lost")


@pytest.mark.parametrize(
    "repeats",
    [
        pytest.param([StepResult(409)] * 3, id="409-outlasts-every-retry"),
        # The 409 was the last *answer*; the lost replies after it do not erase it.
        pytest.param([StepResult(409), LOST, LOST], id="409-then-lost-replies"),
    ],
)
def test_an_unmarked_409_to_repeats_is_a_stored_refusal_once_retries_run_out(
    repeats: list[object],
) -> None:
    options = SagaOptions(compensation_retry=RetrySchedule(attempts=3))
    world = make_world(options, orders={"create": [RequestTimeout("t"), *repeats]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert len(world.services["orders"].called("create")) == 4
    assert world.services["orders"].called("cancel") == []
    assert raised.value.outcome.steps[0].state == "compensated"


def test_without_a_409_lost_repeats_leave_the_step_needing_attention() -> None:
    options = SagaOptions(compensation_retry=RetrySchedule(attempts=3))
    world = make_world(options, orders={"create": [RequestTimeout("t")] * 4})
    with pytest.raises(SagaNeedsAttention) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert raised.value.outcome.step.state == "compensation_failed"


def test_a_replayed_409_to_a_repeat_settles_the_step_at_once() -> None:
    world = make_world(orders={"create": [RequestTimeout("t"), REPLAYED_409]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert len(world.services["orders"].called("create")) == 2
    assert world.clock.sleeps == []
    assert raised.value.outcome.steps[0].state == "compensated"


def test_a_replayed_refusal_after_client_retries_is_a_definite_failure() -> None:
    replayed = StepResult(409, None, {"idempotent-replayed": "true"}, attempts=2)
    world = make_world(inventory={"reserve": [replayed]})
    with pytest.raises(SagaCompensated) as raised:
        with world.runner.saga("s") as saga:
            world.run_order(saga)
    assert raised.value.outcome.steps[1].state == "failed"
    assert world.services["inventory"].called("reserve") == world.services["inventory"].calls[:1]
    assert world.undo_calls() == [("orders", "cancel")]


def test_an_unmarked_409_before_lost_pivot_retries_is_a_refusal() -> None:
    world, shipping = pivot_world()
    shipping.script["ship"] = [RequestTimeout("t"), StepResult(409)] + [RequestTimeout("t")] * 2
    with pytest.raises(SagaCompensated):  # the pivot world retries forward 4 times
        with world.runner.saga("s") as saga:
            saga.step(world.services["orders"], "create", {})
            saga.step(shipping, "ship", {})
    assert len(shipping.called("ship")) == 4
    assert world.undo_calls() == [("orders", "cancel")]
    pivot = world.log.load(saga.saga_id)[1][1]
    assert (pivot.state, pivot.status) == ("failed", 409)  # the evidence, not the lost reply


def test_a_rolled_back_saga_cannot_complete() -> None:
    world = make_world()
    saga = world.runner.saga("s")
    saga.step(world.services["orders"], "create", {})
    assert isinstance(saga.abort("changed my mind"), Compensated)
    with pytest.raises(SagaStateError, match="cannot complete"):
        saga.complete()
