"""The order service: orders go ``pending`` → ``confirmed`` or ``cancelled``."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from seawall.examples.asgi import HttpError, JsonApp, Request, Response, Router
from seawall.examples.db import Database, fetch_or_404, utc_now
from seawall.examples.idempotency import SCHEMA as KEYS_SCHEMA
from seawall.examples.idempotency import Hooks, IdempotentWrites
from seawall.examples.schemas import (
    Input,
    Money,
    Quantity,
    Sku,
    parse_body,
    query_choice,
    query_int,
)

STATUSES = ("pending", "confirmed", "cancelled")
CancelReason = Literal["customer-request", "saga-rollback", "out-of-stock", "payment-declined"]

SCHEMA = KEYS_SCHEMA + """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    lines TEXT NOT NULL,
    total_amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    charge_id TEXT,
    cancel_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status);
"""


class OrderLine(Input):
    sku: Sku
    quantity: Quantity
    unitPrice: Money


class NewOrder(Input):
    customerId: Annotated[str, Field(min_length=1, max_length=64)]
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=50)]


class Confirmation(Input):
    chargeId: Annotated[str, Field(min_length=1, max_length=64)]


class Cancellation(Input):
    reason: CancelReason


def order_json(row: sqlite3.Row) -> dict[str, object]:
    """An ``orders`` row as the spec's ``Order``."""
    order: dict[str, object] = {
        "id": row["id"],
        "customerId": row["customer_id"],
        "status": row["status"],
        "lines": json.loads(row["lines"]),
        "total": {"amount": row["total_amount"], "currency": row["currency"]},
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
    if row["charge_id"] is not None:
        order["chargeId"] = row["charge_id"]
    if row["cancel_reason"] is not None:
        order["cancelReason"] = row["cancel_reason"]
    return order


def _update(
    connection: sqlite3.Connection,
    order_id: str,
    status: str,
    *,
    charge_id: str | None = None,
    cancel_reason: str | None = None,
) -> sqlite3.Row:
    """Move an order to ``status``, setting the given fields; returns the new row."""
    connection.execute(
        "UPDATE orders SET status = ?, charge_id = COALESCE(?, charge_id),"
        " cancel_reason = COALESCE(?, cancel_reason), updated_at = ? WHERE id = ?",
        (status, charge_id, cancel_reason, utc_now(), order_id),
    )
    return fetch_or_404(connection, "orders", order_id)


class OrdersService:
    """Handlers for ``specs/orders.yaml``."""

    def __init__(self, database: Database, hooks: Hooks) -> None:
        self.database = database
        self.writes = IdempotentWrites(database, hooks)

    async def list_orders(self, request: Request) -> Response:
        status = query_choice(request, "status", STATUSES)
        limit = query_int(request, "limit", default=100, low=1, high=1000)

        def read(connection: sqlite3.Connection) -> Response:
            rows = connection.execute(
                "SELECT * FROM orders WHERE ?1 IS NULL OR status = ?1"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?2",
                (status, limit),
            ).fetchall()
            return Response(200, {"orders": [order_json(row) for row in rows]})

        return await self.database.read(read)

    async def create_order(self, request: Request) -> Response:
        new = parse_body(request, NewOrder)
        currencies = {line.unitPrice.currency for line in new.lines}
        if len(currencies) > 1:
            raise HttpError(422, "mixed-currencies", "all lines must be priced in one currency")
        (currency,) = currencies
        total = sum(line.quantity * line.unitPrice.amount for line in new.lines)
        lines = [line.model_dump() for line in new.lines]

        def effect(connection: sqlite3.Connection) -> Response:
            order_id = str(uuid.uuid4())
            now = utc_now()
            connection.execute(
                "INSERT INTO orders (id, customer_id, status, lines, total_amount, currency,"
                " created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)",
                (order_id, new.customerId, json.dumps(lines), total, currency, now, now),
            )
            order = order_json(fetch_or_404(connection, "orders", order_id))
            return Response(201, order, (("Location", f"/orders/{order_id}"),))

        return await self.writes.run(request, "createOrder", effect)

    async def get_order(self, request: Request) -> Response:
        order_id = request.path_params["orderId"]
        return await self.database.read(
            lambda connection: Response(
                200, order_json(fetch_or_404(connection, "orders", order_id))
            )
        )

    async def confirm_order(self, request: Request) -> Response:
        order_id = request.path_params["orderId"]
        charge_id = parse_body(request, Confirmation).chargeId

        def effect(connection: sqlite3.Connection) -> Response:
            row = fetch_or_404(connection, "orders", order_id)
            if row["status"] == "cancelled":
                raise HttpError(409, "invalid-state", "a cancelled order cannot be confirmed")
            if row["status"] == "confirmed" and row["charge_id"] != charge_id:
                raise HttpError(409, "invalid-state", "the order was confirmed with another charge")
            if row["status"] == "pending":
                row = _update(connection, order_id, "confirmed", charge_id=charge_id)
            return Response(200, order_json(row))

        return await self.writes.run(request, "confirmOrder", effect)

    async def cancel_order(self, request: Request) -> Response:
        order_id = request.path_params["orderId"]
        reason = parse_body(request, Cancellation).reason

        def effect(connection: sqlite3.Connection) -> Response:
            row = fetch_or_404(connection, "orders", order_id)
            if row["status"] != "cancelled":
                row = _update(connection, order_id, "cancelled", cancel_reason=reason)
            return Response(200, order_json(row))

        return await self.writes.run(request, "cancelOrder", effect)


def create_app(db_path: Path, hooks: Hooks = Hooks()) -> JsonApp:
    """The order service as an ASGI app, persisting to ``db_path``."""
    service = OrdersService(Database(db_path, SCHEMA), hooks)
    router = Router()
    router.add("GET", "/orders", service.list_orders)
    router.add("POST", "/orders", service.create_order)
    router.add("GET", "/orders/{orderId}", service.get_order)
    # The example has no real replica: the replica reads the same file.
    router.add("GET", "/replica/orders/{orderId}", service.get_order)
    router.add("POST", "/orders/{orderId}/confirm", service.confirm_order)
    router.add("POST", "/orders/{orderId}/cancel", service.cancel_order)
    return JsonApp(router)
