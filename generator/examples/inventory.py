"""The inventory service: catalogue, stock levels and all-or-nothing reservations.

``items.available`` is kept equal to ``on_hand`` minus the quantities of
active reservations; every change to it happens in the same ``BEGIN
IMMEDIATE`` transaction as the reservation change that causes it, after the
stock was checked in that transaction, so it can never go negative.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field

from seawall.examples.asgi import HttpError, JsonApp, Request, Response, Router
from seawall.examples.db import Database, fetch_or_404, utc_now
from seawall.examples.idempotency import SCHEMA as KEYS_SCHEMA
from seawall.examples.idempotency import Hooks, IdempotentWrites
from seawall.examples.schemas import Input, Quantity, Sku, Uuid, parse_body, query_uuid

SCHEMA = KEYS_SCHEMA + """
CREATE TABLE IF NOT EXISTS items (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit_price INTEGER NOT NULL,
    currency TEXT NOT NULL,
    on_hand INTEGER NOT NULL,
    available INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    released_at TEXT
);
CREATE INDEX IF NOT EXISTS reservations_by_order ON reservations (order_id);
CREATE TABLE IF NOT EXISTS reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id),
    position INTEGER NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (reservation_id, position)
);
"""


@dataclass(frozen=True)
class CatalogueItem:
    """An item the inventory starts with; price in minor units."""

    sku: str
    name: str
    unit_price: int
    currency: str = "EUR"


CATALOGUE = (
    CatalogueItem("KB-001", "Mechanical keyboard", 8999),
    CatalogueItem("MS-002", "Wireless mouse", 2999),
    CatalogueItem("MN-003", "27-inch monitor", 24900),
    CatalogueItem("CB-004", "USB-C cable", 999),
)
DEFAULT_STOCK = 100


class ReservationLine(Input):
    sku: Sku
    quantity: Quantity


class NewReservation(Input):
    orderId: Uuid
    lines: Annotated[list[ReservationLine], Field(min_length=1, max_length=50)]


def _stock_json(connection: sqlite3.Connection, item: sqlite3.Row) -> dict[str, object]:
    reserved = connection.execute(
        "SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l"
        " JOIN reservations r ON r.id = l.reservation_id"
        " WHERE r.status = 'active' AND l.sku = ?",
        (item["sku"],),
    ).fetchone()[0]
    return {
        "sku": item["sku"],
        "onHand": item["on_hand"],
        "reserved": reserved,
        "available": item["available"],
    }


def _item_json(connection: sqlite3.Connection, item: sqlite3.Row) -> dict[str, object]:
    return {
        "sku": item["sku"],
        "name": item["name"],
        "unitPrice": {"amount": item["unit_price"], "currency": item["currency"]},
        "stock": _stock_json(connection, item),
    }


def _reservation_json(connection: sqlite3.Connection, row: sqlite3.Row) -> dict[str, object]:
    lines = connection.execute(
        "SELECT sku, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY position",
        (row["id"],),
    ).fetchall()
    reservation: dict[str, object] = {
        "id": row["id"],
        "orderId": row["order_id"],
        "status": row["status"],
        "lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in lines],
        "createdAt": row["created_at"],
    }
    if row["released_at"] is not None:
        reservation["releasedAt"] = row["released_at"]
    return reservation


class InventoryService:
    """Handlers for ``specs/inventory.yaml``."""

    def __init__(self, database: Database, hooks: Hooks) -> None:
        self.database = database
        self.writes = IdempotentWrites(database, hooks)

    async def list_items(self, request: Request) -> Response:
        def read(connection: sqlite3.Connection) -> Response:
            rows = connection.execute("SELECT * FROM items ORDER BY sku").fetchall()
            return Response(200, {"items": [_item_json(connection, row) for row in rows]})

        return await self.database.read(read)

    async def get_item(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        return await self.database.read(
            lambda connection: Response(
                200, _item_json(connection, fetch_or_404(connection, "items", sku, column="sku"))
            )
        )

    async def get_stock_level(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        return await self.database.read(
            lambda connection: Response(
                200, _stock_json(connection, fetch_or_404(connection, "items", sku, column="sku"))
            )
        )

    async def list_reservations(self, request: Request) -> Response:
        order_id = query_uuid(request, "orderId")

        def read(connection: sqlite3.Connection) -> Response:
            rows = connection.execute(
                "SELECT * FROM reservations WHERE ?1 IS NULL OR order_id = ?1"
                " ORDER BY created_at DESC, rowid DESC",
                (order_id,),
            ).fetchall()
            reservations = [_reservation_json(connection, row) for row in rows]
            return Response(200, {"reservations": reservations})

        return await self.database.read(read)

    async def create_reservation(self, request: Request) -> Response:
        new = parse_body(request, NewReservation)
        wanted: Counter[str] = Counter()
        for line in new.lines:
            wanted[line.sku] += line.quantity

        def effect(connection: sqlite3.Connection) -> Response:
            for sku, quantity in wanted.items():
                item = fetch_or_404(connection, "items", sku, column="sku")
                if item["available"] < quantity:
                    raise HttpError(
                        409,
                        "insufficient-stock",
                        f"{sku}: {quantity} wanted, {item['available']} available",
                    )
            reservation_id = str(uuid.uuid4())
            connection.execute(
                "INSERT INTO reservations (id, order_id, status, created_at)"
                " VALUES (?, ?, 'active', ?)",
                (reservation_id, new.orderId, utc_now()),
            )
            connection.executemany(
                "INSERT INTO reservation_lines (reservation_id, position, sku, quantity)"
                " VALUES (?, ?, ?, ?)",
                [(reservation_id, i, line.sku, line.quantity) for i, line in enumerate(new.lines)],
            )
            connection.executemany(
                "UPDATE items SET available = available - ? WHERE sku = ?",
                [(quantity, sku) for sku, quantity in wanted.items()],
            )
            body = _reservation_json(
                connection, fetch_or_404(connection, "reservations", reservation_id)
            )
            return Response(201, body, (("Location", f"/reservations/{reservation_id}"),))

        return await self.writes.run(request, "createReservation", effect)

    async def get_reservation(self, request: Request) -> Response:
        reservation_id = request.path_params["reservationId"]

        def read(connection: sqlite3.Connection) -> Response:
            row = fetch_or_404(connection, "reservations", reservation_id)
            return Response(200, _reservation_json(connection, row))

        return await self.database.read(read)

    async def release_reservation(self, request: Request) -> Response:
        reservation_id = request.path_params["reservationId"]

        def effect(connection: sqlite3.Connection) -> Response:
            row = fetch_or_404(connection, "reservations", reservation_id)
            if row["status"] == "active":
                returned = connection.execute(
                    "SELECT SUM(quantity), sku FROM reservation_lines"
                    " WHERE reservation_id = ? GROUP BY sku",
                    (reservation_id,),
                ).fetchall()
                connection.executemany(
                    "UPDATE items SET available = available + ? WHERE sku = ?",
                    [tuple(line) for line in returned],
                )
                connection.execute(
                    "UPDATE reservations SET status = 'released', released_at = ? WHERE id = ?",
                    (utc_now(), reservation_id),
                )
                row = fetch_or_404(connection, "reservations", reservation_id)
            return Response(200, _reservation_json(connection, row))

        return await self.writes.run(request, "releaseReservation", effect)


def seed(database: Database, catalogue: tuple[CatalogueItem, ...], stock: int) -> None:
    """Add catalogue items that are not in the database yet, each with ``stock`` units."""
    if stock < 0:
        raise ValueError("initial stock must be >= 0")
    database.run_write(
        lambda connection: connection.executemany(
            "INSERT OR IGNORE INTO items (sku, name, unit_price, currency, on_hand, available)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(i.sku, i.name, i.unit_price, i.currency, stock, stock) for i in catalogue],
        )
    )


def create_app(
    db_path: Path,
    hooks: Hooks = Hooks(),
    *,
    stock: int = DEFAULT_STOCK,
    catalogue: tuple[CatalogueItem, ...] = CATALOGUE,
) -> JsonApp:
    """The inventory service as an ASGI app; a new database gets the catalogue with ``stock`` each."""
    database = Database(db_path, SCHEMA)
    seed(database, catalogue, stock)
    service = InventoryService(database, hooks)
    router = Router()
    router.add("GET", "/items", service.list_items)
    router.add("GET", "/items/{sku}", service.get_item)
    router.add("GET", "/items/{sku}/stock", service.get_stock_level)
    router.add("GET", "/reservations", service.list_reservations)
    router.add("POST", "/reservations", service.create_reservation)
    router.add("GET", "/reservations/{reservationId}", service.get_reservation)
    router.add("POST", "/reservations/{reservationId}/release", service.release_reservation)
    return JsonApp(router)
