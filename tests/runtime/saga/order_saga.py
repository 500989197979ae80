"""The order saga of docs/sagas.md, as the example-service tests and their crash worker run it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from spec_invoker import FaultyTransport, SpecInvoker

from seawall_runtime import Policy
from seawall_runtime.saga import Arguments, Saga

SKUS = ("KB-001", "MS-002", "MN-003", "CB-004")
STEP_NAMES = ("createOrder", "createReservation", "createCharge", "confirmOrder")
NO_RETRY = Policy(retry=None)


class FraudCheckFailed(Exception):
    """The orchestration's own failure between steps."""


def place_order(
    saga: Saga,
    services: Mapping[str, SpecInvoker],
    rng: random.Random,
    transport: FaultyTransport,
    mode: int,
) -> None:
    """The order saga of docs/sagas.md, step for step, with this saga's fault (see ``mode``).

    Modes 0-3 lose the answer of that step (applied, answer lost, no client
    retry: the outcome is unknown; step 3, confirmOrder, is the pivot, so it is
    retried forward), 4 fails the orchestration after the charge, 5 is left to
    the random faults alone.
    """

    def step(service: str, operation: str, arguments: Arguments, final: bool = False) -> Any:
        policy = None
        if mode < 4 and STEP_NAMES[mode] == operation:
            transport.lose_next()
            policy = NO_RETRY
        return saga.step(services[service], operation, arguments, policy=policy, final=final).body

    lines: list[dict[str, Any]] = [
        {"sku": sku, "quantity": rng.randint(1, 3), "unitPrice": {"amount": 999, "currency": "EUR"}}
        for sku in rng.sample(SKUS, rng.randint(1, 2))
    ]
    card = "tok_declined" if rng.random() < 0.2 else "tok_visa"
    order = step("orders", "createOrder", {"body": {"customerId": saga.saga_id, "lines": lines}})
    reserved: list[dict[str, Any]] = [
        {"sku": line["sku"], "quantity": line["quantity"]} for line in lines
    ]
    step("inventory", "createReservation", {"body": {"orderId": order["id"], "lines": reserved}})
    payment = {"type": "card", "token": card}
    charge = step(
        "payments",
        "createCharge",
        {"body": {"orderId": order["id"], "amount": order["total"], "paymentMethod": payment}},
    )
    if mode == 4:
        raise FraudCheckFailed(f"order {order['id']} looks suspicious")
    confirmation = {"path": {"orderId": order["id"]}, "body": {"chargeId": charge["id"]}}
    step("orders", "confirmOrder", confirmation, final=True)
