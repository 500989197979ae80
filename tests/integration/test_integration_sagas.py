"""The order saga through generated clients, end to end.

The three example services run on loopback, each behind a seeded
``ChaosProxy`` that injects faults into every forward step of the saga
(503s, resets, lost responses). Many sagas run at once through the generated
clients' typed methods (``saga=``), recorded in a real SQLite saga log. After
the run every saga has either completed or been fully compensated, and the
services' databases pass every cross-service invariant.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from seawall.chaos import ErrorFault, FaultSet, RoutePattern, Rule
from seawall.chaos.proxy import ChaosProxy
from seawall.examples.apps import SERVICE_NAMES, ServiceName
from seawall.examples.generated import generate_clients
from seawall.examples.inventory import CATALOGUE
from seawall.examples.invariants import check_invariants
from seawall.examples.testing import running_services
from seawall_runtime import Backoff, BreakerPolicy, RetryPolicy, TimeoutPolicy
from seawall_runtime.codegen import SagaStep
from seawall_runtime.saga import (
    AsyncSaga,
    AsyncSagaRunner,
    Compensated,
    Completed,
    CompensationSpec,
    InMemorySagaLog,
    OperationInvoker,
    OperationRef,
    RetrySchedule,
    SagaCompensated,
    SagaOptions,
    SagaOutcome,
    SagaRunner,
    SqliteSagaLog,
    StepResult,
)

SAGAS = 24
# Low stock, so that some reservations are refused (409) besides declined cards;
# under faults such a refusal is often only seen on a repeat with the step's key.
STOCK = 12
CALL_OPTIONS: dict[str, Any] = {
    "timeout": TimeoutPolicy(connect=1, attempt=1, total=5),
    "retry": RetryPolicy(attempts=4, backoff=Backoff(initial=0.01, max=0.05)),
}
# The specs' breaker, open for a fifth of a second rather than 15; the saga's
# retries outlast that, so an open circuit delays a compensation, never skips it.
BREAKER = BreakerPolicy(failure_ratio=0.5, minimum_calls=20, window=30, open_for=0.2)
SAGA_OPTIONS = SagaOptions(
    compensation_retry=RetrySchedule(attempts=20, initial=0.01, max_delay=0.2),
    forward_retry=RetrySchedule(attempts=20, initial=0.01, max_delay=0.2),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[ServiceName, ModuleType]:
    return generate_clients(tmp_path_factory.mktemp("clients"))


def _forward_faults(seed: int) -> FaultSet:
    """Faults on every creating or confirming POST (the saga's forward steps)."""
    forward = Rule(
        match=(RoutePattern.parse("POST /orders"), RoutePattern.parse("POST /reservations"),
               RoutePattern.parse("POST /charges"), RoutePattern.parse("POST /orders/*/confirm")),
        errors=(ErrorFault(503, 0.15),),
        reset=0.1,
        lost=0.1,
    )
    return FaultSet((forward,), seed=seed)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[tuple[Path, dict[ServiceName, ChaosProxy]]]:
    with ExitStack() as stack:
        urls = stack.enter_context(running_services(tmp_path, stock=STOCK))
        proxies = {
            name: stack.enter_context(ChaosProxy(urls[name], _forward_faults(31 + index)))
            for index, name in enumerate(SERVICE_NAMES)
        }
        yield tmp_path, proxies


async def place_order(
    runner: AsyncSagaRunner, clients: dict[ServiceName, Any], packages: dict[ServiceName, ModuleType], index: int
) -> SagaOutcome:
    """The order saga as the business process reads: order, reserve, charge, confirm."""
    orders, inventory, payments = (packages[name].models for name in SERVICE_NAMES)
    rng = random.Random(index)
    items = rng.sample(CATALOGUE, rng.randint(1, 2))
    lines = [{"sku": item.sku, "quantity": rng.randint(1, 3),
              "unitPrice": {"amount": item.unit_price, "currency": "EUR"}} for item in items]
    card = "tok_declined" if index % 5 == 4 else "tok_visa"

    async def steps(saga: AsyncSaga) -> None:
        order = await clients["orders"].create_order(
            orders.NewOrder.model_validate({"customerId": f"customer-{index}", "lines": lines}),
            saga=saga, **CALL_OPTIONS,
        )
        await clients["inventory"].create_reservation(
            inventory.NewReservation.model_validate(
                {"orderId": str(order.id), "lines": [{"sku": l["sku"], "quantity": l["quantity"]} for l in lines]}
            ),
            saga=saga, **CALL_OPTIONS,
        )
        charge = await clients["payments"].create_charge(
            payments.NewCharge.model_validate({
                "orderId": str(order.id),
                "amount": order.total.model_dump(mode="json", by_alias=True),
                "paymentMethod": {"type": "card", "token": card},
            }),
            saga=saga, **CALL_OPTIONS,
        )
        await clients["orders"].confirm_order(
            order.id, orders.Confirmation.model_validate({"chargeId": str(charge.id)}),
            saga=SagaStep(saga, final=True), **CALL_OPTIONS,
        )

    return await runner.run("place-order", steps)


@pytest.mark.anyio
async def test_concurrent_order_sagas_under_faults_end_applied_or_undone(
    system: tuple[Path, dict[ServiceName, ChaosProxy]], packages: dict[ServiceName, ModuleType]
) -> None:
    directory, proxies = system
    runner = AsyncSagaRunner(SqliteSagaLog(directory / "sagas.db"), options=SAGA_OPTIONS)
    outcomes: list[SagaOutcome] = []
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(packages[name].AsyncClient(proxies[name].url, breaker=BREAKER))
            for name in SERVICE_NAMES
        }

        async def one(index: int) -> None:
            outcomes.append(await place_order(runner, clients, packages, index))

        async with anyio.create_task_group() as group:
            for index in range(SAGAS):
                group.start_soon(one, index)

    injected = {name: proxy.stats().faults for name, proxy in proxies.items()}
    assert all(sum(faults.get(kind, 0) for kind in ("error", "reset", "lost")) for faults in injected.values()), injected
    assert len(outcomes) == SAGAS
    assert all(isinstance(o, (Completed, Compensated)) for o in outcomes), [(o.reason, o.last_error) for o in outcomes if not isinstance(o, (Completed, Compensated))]
    completed = sum(isinstance(o, Completed) for o in outcomes)
    assert 0 < completed < SAGAS  # every fifth card is declined: those sagas roll back
    out_of_stock = [o for o in outcomes if isinstance(o, Compensated) and len(o.steps) == 2]
    assert out_of_stock, "no reservation was refused: the stock is meant to run out"
    report = check_invariants(*(directory / f"{name}.db" for name in SERVICE_NAMES))
    assert report.ok, str(report)
    assert report.orders_by_status.get("confirmed", 0) == completed, str(report)
    assert report.charges - report.refunds == completed, str(report)


def test_a_generated_client_is_a_saga_invoker(tmp_path: Path, packages: dict[ServiceName, ModuleType]) -> None:
    with running_services(tmp_path, stock=STOCK) as urls, packages["orders"].Client(urls["orders"]) as orders:
        assert isinstance(orders, OperationInvoker) and orders.service == "orders_client"
        assert orders.operation("createOrder") == OperationRef(
            "createOrder",
            True,
            CompensationSpec(
                "cancelOrder", {"path": {"orderId": "$response.body#/id"}, "body": {"reason": "saga-rollback"}}
            ),
        )
        assert orders.operation("confirmOrder").is_pivot
        with pytest.raises(KeyError):
            orders.operation("noSuchOperation")
        missing = orders.invoke("getOrder", {"path": {"orderId": str(uuid.uuid4())}}, idempotency_key="k-0")
        assert isinstance(missing, StepResult) and missing.status == 404 and missing.attempts == 1
        lines = [{"sku": CATALOGUE[0].sku, "quantity": 1, "unitPrice": {"amount": CATALOGUE[0].unit_price, "currency": "EUR"}}]
        arguments = {"body": {"customerId": "c-1", "lines": lines}}
        created = orders.invoke("createOrder", arguments, idempotency_key="k-1")
        replayed = orders.invoke("createOrder", arguments, idempotency_key="k-1")
        assert created.status == 201 and replayed.body == created.body  # the key reached the service


def test_a_refused_step_rolls_back_a_sync_saga(tmp_path: Path, packages: dict[ServiceName, ModuleType]) -> None:
    runner = SagaRunner(InMemorySagaLog(), options=SAGA_OPTIONS)
    models = {name: packages[name].models for name in SERVICE_NAMES}
    item = CATALOGUE[1]
    with running_services(tmp_path, stock=STOCK) as urls, ExitStack() as stack:
        orders, payments = (stack.enter_context(packages[name].Client(urls[name])) for name in ("orders", "payments"))
        with pytest.raises(SagaCompensated) as rolled_back:
            with runner.saga("place-order") as saga:
                order = orders.create_order(
                    models["orders"].NewOrder.model_validate({"customerId": "c-2", "lines": [
                        {"sku": item.sku, "quantity": 1, "unitPrice": {"amount": item.unit_price, "currency": "EUR"}}
                    ]}),
                    saga=saga,
                )
                assert isinstance(order, models["orders"].Order)  # the typed answer
                payments.create_charge(
                    models["payments"].NewCharge.model_validate({
                        "orderId": str(order.id),
                        "amount": order.total.model_dump(mode="json", by_alias=True),
                        "paymentMethod": {"type": "card", "token": "tok_declined"},
                    }),
                    saga=saga,
                )
        assert orders.get_order(order.id).status.value == "cancelled"
    assert [step.state for step in rolled_back.value.outcome.steps] == ["compensated", "failed"]
