"""The inventory service's endpoints, over real HTTP on loopback."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .bodies import TEST_STOCK


def _reserve(
    inventory: httpx.Client, *lines: tuple[str, int], order_id: str | None = None
) -> httpx.Response:
    body = {
        "orderId": order_id or str(uuid.uuid4()),
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }
    return inventory.post("/reservations", json=body)


def _stock(inventory: httpx.Client, sku: str) -> dict[str, Any]:
    level: dict[str, Any] = inventory.get(f"/items/{sku}/stock").json()
    return level


def test_catalogue_lists_seeded_items(inventory: httpx.Client) -> None:
    items = inventory.get("/items").json()["items"]
    assert [item["sku"] for item in items] == ["CB-004", "KB-001", "MN-003", "MS-002"]
    keyboard = inventory.get("/items/KB-001").json()
    assert keyboard["unitPrice"] == {"amount": 8999, "currency": "EUR"}
    assert keyboard["stock"] == {
        "sku": "KB-001",
        "onHand": TEST_STOCK,
        "reserved": 0,
        "available": TEST_STOCK,
    }


def test_unknown_item_is_404(inventory: httpx.Client) -> None:
    assert inventory.get("/items/NOPE-1").status_code == 404
    assert inventory.get("/items/NOPE-1/stock").status_code == 404


def test_reservation_holds_stock_for_every_line(inventory: httpx.Client) -> None:
    response = _reserve(inventory, ("KB-001", 3), ("MS-002", 1), ("KB-001", 2))
    assert response.status_code == 201
    reservation = response.json()
    assert reservation["status"] == "active"
    assert response.headers["location"] == f"/reservations/{reservation['id']}"
    assert _stock(inventory, "KB-001") == {
        "sku": "KB-001",
        "onHand": TEST_STOCK,
        "reserved": 5,
        "available": TEST_STOCK - 5,
    }
    assert _stock(inventory, "MS-002")["available"] == TEST_STOCK - 1
    assert inventory.get(f"/reservations/{reservation['id']}").json() == reservation


def test_reservation_that_does_not_fit_changes_nothing(inventory: httpx.Client) -> None:
    response = _reserve(inventory, ("MS-002", 1), ("KB-001", TEST_STOCK + 1))
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient-stock"
    assert _stock(inventory, "MS-002")["available"] == TEST_STOCK
    assert inventory.get("/reservations").json()["reservations"] == []


def test_reservation_of_unknown_sku_is_404_and_changes_nothing(inventory: httpx.Client) -> None:
    response = _reserve(inventory, ("KB-001", 1), ("NOPE-1", 1))
    assert response.status_code == 404
    assert _stock(inventory, "KB-001")["available"] == TEST_STOCK


def test_invalid_reservation_is_422(inventory: httpx.Client) -> None:
    response = inventory.post("/reservations", json={"orderId": "not-a-uuid", "lines": []})
    assert response.status_code == 422
    assert {d["pointer"] for d in response.json()["details"]} == {"/orderId", "/lines"}


def test_release_returns_stock_once(inventory: httpx.Client) -> None:
    reservation = _reserve(inventory, ("KB-001", 4)).json()
    released = inventory.post(f"/reservations/{reservation['id']}/release")
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    assert "releasedAt" in released.json()
    again = inventory.post(f"/reservations/{reservation['id']}/release")
    assert again.json() == released.json()
    assert _stock(inventory, "KB-001") == {
        "sku": "KB-001",
        "onHand": TEST_STOCK,
        "reserved": 0,
        "available": TEST_STOCK,
    }


def test_release_of_unknown_reservation_is_404(inventory: httpx.Client) -> None:
    response = inventory.post(f"/reservations/{uuid.uuid4()}/release")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


def test_list_reservations_by_order(inventory: httpx.Client) -> None:
    order_id = str(uuid.uuid4())
    mine = _reserve(inventory, ("KB-001", 1), order_id=order_id).json()
    _reserve(inventory, ("KB-001", 1))
    listed = inventory.get("/reservations", params={"orderId": order_id}).json()["reservations"]
    assert listed == [mine]
    assert len(inventory.get("/reservations").json()["reservations"]) == 2
    assert inventory.get("/reservations", params={"orderId": "x"}).status_code == 422
