"""The payment service's endpoints, over real HTTP on loopback."""

from __future__ import annotations

import uuid

import httpx

from .bodies import charge_body


def test_charge_succeeds_and_can_be_read(payments: httpx.Client) -> None:
    body = charge_body()
    response = payments.post("/charges", json=body)
    assert response.status_code == 201
    charge = response.json()
    assert charge["status"] == "succeeded"
    assert charge["amount"] == body["amount"]
    assert charge["cardLast4"] == "4242"
    assert "refund" not in charge
    assert payments.get(f"/charges/{charge['id']}").json() == charge
    assert response.headers["location"] == f"/charges/{charge['id']}"


def test_declined_card_is_402_and_records_nothing(payments: httpx.Client) -> None:
    response = payments.post("/charges", json=charge_body(token="tok_declined"))
    assert response.status_code == 402
    assert response.json()["code"] == "card-declined"
    assert payments.get("/charges").json()["charges"] == []


def test_unknown_token_and_bad_amount_are_422(payments: httpx.Client) -> None:
    unknown = payments.post("/charges", json=charge_body(token="tok_nope"))
    assert unknown.status_code == 422
    assert unknown.json()["details"][0]["pointer"] == "/paymentMethod/token"
    negative = payments.post("/charges", json=charge_body(amount=-1))
    assert [d["pointer"] for d in negative.json()["details"]] == ["/amount/amount"]


def test_list_charges_by_order(payments: httpx.Client) -> None:
    order_id = str(uuid.uuid4())
    mine = payments.post("/charges", json=charge_body(order_id)).json()
    payments.post("/charges", json=charge_body())
    assert payments.get("/charges", params={"orderId": order_id}).json()["charges"] == [mine]
    assert len(payments.get("/charges").json()["charges"]) == 2


def test_refund_happens_at_most_once(payments: httpx.Client) -> None:
    charge = payments.post("/charges", json=charge_body()).json()
    first = payments.post(f"/charges/{charge['id']}/refund", json={"reason": "saga-rollback"})
    assert first.status_code == 200
    refunded = first.json()
    assert refunded["status"] == "refunded"
    assert refunded["refund"]["amount"] == charge["amount"]
    assert refunded["refund"]["reason"] == "saga-rollback"
    again = payments.post(f"/charges/{charge['id']}/refund", json={"reason": "duplicate"})
    assert again.status_code == 200
    assert again.json() == refunded


def test_refund_of_unknown_charge_is_404(payments: httpx.Client) -> None:
    response = payments.post(f"/charges/{uuid.uuid4()}/refund", json={"reason": "saga-rollback"})
    assert response.status_code == 404
    assert payments.get(f"/charges/{uuid.uuid4()}").status_code == 404


def test_refund_needs_a_known_reason(payments: httpx.Client) -> None:
    charge = payments.post("/charges", json=charge_body()).json()
    response = payments.post(f"/charges/{charge['id']}/refund", json={"reason": "because"})
    assert response.status_code == 422
    assert response.json()["details"][0]["pointer"] == "/reason"
