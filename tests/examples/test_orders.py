"""The order service's endpoints, over real HTTP on loopback."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

NEW_ORDER = {
    "customerId": "cust-1",
    "lines": [
        {"sku": "KB-001", "quantity": 2, "unitPrice": {"amount": 8999, "currency": "EUR"}},
        {"sku": "CB-004", "quantity": 1, "unitPrice": {"amount": 999, "currency": "EUR"}},
    ],
}


def _create(orders: httpx.Client) -> dict[str, Any]:
    response = orders.post("/orders", json=NEW_ORDER)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def test_create_order_is_pending_with_computed_total(orders: httpx.Client) -> None:
    response = orders.post("/orders", json=NEW_ORDER)
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending"
    assert order["total"] == {"amount": 2 * 8999 + 999, "currency": "EUR"}
    assert order["lines"] == NEW_ORDER["lines"]
    assert response.headers["location"] == f"/orders/{order['id']}"
    assert uuid.UUID(order["id"])


def test_get_order_and_replica_read_the_same(orders: httpx.Client) -> None:
    order = _create(orders)
    assert orders.get(f"/orders/{order['id']}").json() == order
    assert orders.get(f"/replica/orders/{order['id']}").json() == order


def test_unknown_order_is_404_with_error_model(orders: httpx.Client) -> None:
    response = orders.get(f"/orders/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"


def test_list_orders_filters_by_status_newest_first(orders: httpx.Client) -> None:
    first, second = _create(orders), _create(orders)
    orders.post(f"/orders/{first['id']}/cancel", json={"reason": "customer-request"})
    listed = orders.get("/orders").json()["orders"]
    assert [o["id"] for o in listed] == [second["id"], first["id"]]
    pending = orders.get("/orders", params={"status": "pending"}).json()["orders"]
    assert [o["id"] for o in pending] == [second["id"]]
    assert len(orders.get("/orders", params={"limit": 1}).json()["orders"]) == 1


def test_list_orders_rejects_bad_query(orders: httpx.Client) -> None:
    assert orders.get("/orders", params={"status": "shipped"}).status_code == 422
    assert orders.get("/orders", params={"limit": "0"}).status_code == 422


def test_invalid_order_names_each_bad_field(orders: httpx.Client) -> None:
    bad = {
        "customerId": "c",
        "lines": [{"sku": "kb 1", "quantity": 0, "unitPrice": {"amount": 1, "currency": "EUR"}}],
    }
    response = orders.post("/orders", json=bad)
    assert response.status_code == 422
    pointers = {detail["pointer"] for detail in response.json()["details"]}
    assert pointers == {"/lines/0/sku", "/lines/0/quantity"}


def test_mixed_currencies_are_refused(orders: httpx.Client) -> None:
    lines = [
        {"sku": "KB-001", "quantity": 1, "unitPrice": {"amount": 1, "currency": "EUR"}},
        {"sku": "MS-002", "quantity": 1, "unitPrice": {"amount": 1, "currency": "USD"}},
    ]
    response = orders.post("/orders", json={"customerId": "c", "lines": lines})
    assert response.status_code == 422
    assert response.json()["code"] == "mixed-currencies"


def test_confirm_records_the_charge_and_repeats_harmlessly(orders: httpx.Client) -> None:
    order = _create(orders)
    charge = str(uuid.uuid4())
    first = orders.post(f"/orders/{order['id']}/confirm", json={"chargeId": charge})
    assert first.status_code == 200
    assert first.json()["status"] == "confirmed"
    assert first.json()["chargeId"] == charge
    again = orders.post(f"/orders/{order['id']}/confirm", json={"chargeId": charge})
    assert again.json() == first.json()
    other = orders.post(f"/orders/{order['id']}/confirm", json={"chargeId": "other"})
    assert other.status_code == 409


def test_cancelled_order_cannot_be_confirmed(orders: httpx.Client) -> None:
    order = _create(orders)
    orders.post(f"/orders/{order['id']}/cancel", json={"reason": "out-of-stock"})
    response = orders.post(f"/orders/{order['id']}/confirm", json={"chargeId": "c"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid-state"


def test_cancel_is_idempotent_and_keeps_the_first_reason(orders: httpx.Client) -> None:
    order = _create(orders)
    first = orders.post(f"/orders/{order['id']}/cancel", json={"reason": "saga-rollback"})
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    again = orders.post(f"/orders/{order['id']}/cancel", json={"reason": "customer-request"})
    assert again.status_code == 200
    assert again.json()["cancelReason"] == "saga-rollback"


def test_confirmed_order_can_be_cancelled(orders: httpx.Client) -> None:
    order = _create(orders)
    orders.post(f"/orders/{order['id']}/confirm", json={"chargeId": "c"})
    response = orders.post(f"/orders/{order['id']}/cancel", json={"reason": "saga-rollback"})
    assert response.json()["status"] == "cancelled"


def test_cancel_and_confirm_of_unknown_order_are_404(orders: httpx.Client) -> None:
    missing = uuid.uuid4()
    assert (
        orders.post(f"/orders/{missing}/cancel", json={"reason": "saga-rollback"}).status_code
        == 404
    )
    assert orders.post(f"/orders/{missing}/confirm", json={"chargeId": "c"}).status_code == 404


def test_unknown_route_and_method(orders: httpx.Client) -> None:
    assert orders.get("/nowhere").status_code == 404
    assert orders.delete("/orders").status_code == 405
