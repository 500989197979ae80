"""The payment service: charges cards (once per Idempotency-Key) and refunds them at most once."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from seawall.examples.asgi import HttpError, JsonApp, Request, Response, Router
from seawall.examples.db import Database, fetch_or_404, utc_now
from seawall.examples.idempotency import SCHEMA as KEYS_SCHEMA
from seawall.examples.idempotency import Hooks, IdempotentWrites
from seawall.examples.schemas import Input, Money, Uuid, parse_body, query_uuid

# Test card tokens → last four digits; None means the card is declined.
CARD_TOKENS: dict[str, str | None] = {
    "tok_visa": "4242",
    "tok_mastercard": "4444",
    "tok_declined": None,
}

SCHEMA = KEYS_SCHEMA + """
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_by_order ON charges (order_id);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_by_charge ON refunds (charge_id);
"""


class PaymentMethod(Input):
    type: Literal["card"]
    token: Annotated[str, Field(min_length=1, max_length=64)]


class NewCharge(Input):
    orderId: Uuid
    amount: Money
    paymentMethod: PaymentMethod


class RefundRequest(Input):
    reason: Literal["requested-by-customer", "saga-rollback", "duplicate", "fraudulent"]


def _charge_json(connection: sqlite3.Connection, row: sqlite3.Row) -> dict[str, object]:
    money = {"amount": row["amount"], "currency": row["currency"]}
    charge: dict[str, object] = {
        "id": row["id"],
        "orderId": row["order_id"],
        "amount": money,
        "status": row["status"],
        "cardLast4": row["card_last4"],
        "createdAt": row["created_at"],
    }
    refund = connection.execute(
        "SELECT * FROM refunds WHERE charge_id = ? ORDER BY rowid LIMIT 1", (row["id"],)
    ).fetchone()
    if refund is not None:
        charge["refund"] = {
            "id": refund["id"],
            "amount": {"amount": refund["amount"], "currency": refund["currency"]},
            "reason": refund["reason"],
            "createdAt": refund["created_at"],
        }
    return charge


class PaymentsService:
    """Handlers for ``specs/payments.yaml``."""

    def __init__(self, database: Database, hooks: Hooks) -> None:
        self.database = database
        self.writes = IdempotentWrites(database, hooks)

    async def list_charges(self, request: Request) -> Response:
        order_id = query_uuid(request, "orderId")

        def read(connection: sqlite3.Connection) -> Response:
            rows = connection.execute(
                "SELECT * FROM charges WHERE ?1 IS NULL OR order_id = ?1"
                " ORDER BY created_at DESC, rowid DESC",
                (order_id,),
            ).fetchall()
            return Response(200, {"charges": [_charge_json(connection, row) for row in rows]})

        return await self.database.read(read)

    async def create_charge(self, request: Request) -> Response:
        new = parse_body(request, NewCharge)
        if new.paymentMethod.token not in CARD_TOKENS:
            raise HttpError(
                422,
                "invalid-request",
                "unknown card token",
                [{"pointer": "/paymentMethod/token", "message": "unknown card token"}],
            )
        last4 = CARD_TOKENS[new.paymentMethod.token]

        def effect(connection: sqlite3.Connection) -> Response:
            if last4 is None:
                raise HttpError(402, "card-declined", "the card was declined")
            charge_id = str(uuid.uuid4())
            connection.execute(
                "INSERT INTO charges (id, order_id, amount, currency, card_last4, status,"
                " created_at) VALUES (?, ?, ?, ?, ?, 'succeeded', ?)",
                (charge_id, new.orderId, new.amount.amount, new.amount.currency, last4, utc_now()),
            )
            body = _charge_json(connection, fetch_or_404(connection, "charges", charge_id))
            return Response(201, body, (("Location", f"/charges/{charge_id}"),))

        return await self.writes.run(request, "createCharge", effect)

    async def get_charge(self, request: Request) -> Response:
        charge_id = request.path_params["chargeId"]
        return await self.database.read(
            lambda connection: Response(
                200, _charge_json(connection, fetch_or_404(connection, "charges", charge_id))
            )
        )

    async def refund_charge(self, request: Request) -> Response:
        charge_id = request.path_params["chargeId"]
        reason = parse_body(request, RefundRequest).reason

        def effect(connection: sqlite3.Connection) -> Response:
            row = fetch_or_404(connection, "charges", charge_id)
            if row["status"] == "succeeded":
                connection.execute(
                    "INSERT INTO refunds (id, charge_id, amount, currency, reason, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()),
                        charge_id,
                        row["amount"],
                        row["currency"],
                        reason,
                        utc_now(),
                    ),
                )
                connection.execute(
                    "UPDATE charges SET status = 'refunded' WHERE id = ?", (charge_id,)
                )
                row = fetch_or_404(connection, "charges", charge_id)
            return Response(200, _charge_json(connection, row))

        return await self.writes.run(request, "refundCharge", effect)


def create_app(db_path: Path, hooks: Hooks = Hooks()) -> JsonApp:
    """The payment service as an ASGI app, persisting to ``db_path``."""
    service = PaymentsService(Database(db_path, SCHEMA), hooks)
    router = Router()
    router.add("GET", "/charges", service.list_charges)
    router.add("POST", "/charges", service.create_charge)
    router.add("GET", "/charges/{chargeId}", service.get_charge)
    router.add("POST", "/charges/{chargeId}/refund", service.refund_charge)
    return JsonApp(router)
