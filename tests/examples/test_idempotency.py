"""Idempotency-Key semantics (IETF httpapi draft) on the real services."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from seawall.examples.asgi import Request
from seawall.examples.idempotency import fingerprint
from seawall.examples.testing import Gate, running_service
from .bodies import charge_body


def _charges_in(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM charges").fetchone()[0]
    return count


def test_same_key_and_body_replays_without_a_second_charge(
    payments: httpx.Client, tmp_path: Path
) -> None:
    body = charge_body()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = payments.post("/charges", json=body, headers=key)
    again = payments.post("/charges", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _charges_in(tmp_path / "payments.db") == 1


def test_replay_ignores_json_formatting(payments: httpx.Client, tmp_path: Path) -> None:
    key = {"Idempotency-Key": "format", "Content-Type": "application/json"}
    order_id = str(uuid.uuid4())
    compact = f'{{"orderId":"{order_id}","amount":{{"amount":5,"currency":"EUR"}},"paymentMethod":{{"type":"card","token":"tok_visa"}}}}'
    spaced = f'{{ "paymentMethod": {{"token": "tok_visa", "type": "card"}}, "amount": {{"currency": "EUR", "amount": 5}}, "orderId": "{order_id}" }}'
    assert payments.post("/charges", content=compact, headers=key).status_code == 201
    assert (
        payments.post("/charges", content=spaced, headers=key).headers["idempotent-replayed"]
        == "true"
    )
    assert _charges_in(tmp_path / "payments.db") == 1


def test_same_key_with_different_body_is_422(payments: httpx.Client, tmp_path: Path) -> None:
    key = {"Idempotency-Key": "reused"}
    assert payments.post("/charges", json=charge_body(amount=100), headers=key).status_code == 201
    response = payments.post("/charges", json=charge_body(amount=200), headers=key)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency-key-reused"
    assert _charges_in(tmp_path / "payments.db") == 1


def test_error_answers_are_replayed_too(payments: httpx.Client) -> None:
    key = {"Idempotency-Key": "declined"}
    body = charge_body(token="tok_declined")
    first = payments.post("/charges", json=body, headers=key)
    again = payments.post("/charges", json=body, headers=key)
    assert first.status_code == again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"


def test_without_a_key_every_request_charges(payments: httpx.Client, tmp_path: Path) -> None:
    body = charge_body()
    payments.post("/charges", json=body)
    payments.post("/charges", json=body)
    assert _charges_in(tmp_path / "payments.db") == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_malformed_key_is_422(payments: httpx.Client, key: str) -> None:
    response = payments.post(
        "/charges", json=charge_body(), headers=[(b"Idempotency-Key", key.encode("utf-8"))]
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid-idempotency-key"


def test_key_still_in_flight_is_409(tmp_path: Path) -> None:
    gate = Gate("createCharge")
    db = tmp_path / "payments.db"
    body = charge_body()
    key = {"Idempotency-Key": "slow"}
    with (
        running_service("payments", db, hooks=gate.hooks) as url,
        httpx.Client(base_url=url) as client,
    ):
        first: list[httpx.Response] = []
        held = threading.Thread(
            target=lambda: first.append(client.post("/charges", json=body, headers=key))
        )
        held.start()
        try:
            assert gate.entered.wait(10), "the first request never reached the gate"
            concurrent = client.post("/charges", json=body, headers=key)
        finally:
            gate.release()
            held.join(10)
        assert concurrent.status_code == 409
        assert concurrent.json()["code"] == "idempotency-key-in-flight"
        assert first[0].status_code == 201
        after = client.post("/charges", json=body, headers=key)
        assert after.json() == first[0].json()
    assert _charges_in(db) == 1


def test_fingerprint_covers_method_path_and_parsed_body() -> None:
    def request(method: str, path: str, body: bytes) -> Request:
        return Request(method, path, {}, {}, body)

    base = fingerprint(request("POST", "/charges", b'{"a": 1, "b": 2}'))
    assert fingerprint(request("POST", "/charges", b'{"b":2,"a":1}')) == base
    assert fingerprint(request("POST", "/charges", b'{"a": 1, "b": 3}')) != base
    assert fingerprint(request("POST", "/orders", b'{"a": 1, "b": 2}')) != base
    assert fingerprint(request("PUT", "/charges", b'{"a": 1, "b": 2}')) != base
    assert fingerprint(request("POST", "/charges", b"not json")) != fingerprint(
        request("POST", "/charges", b"not  json")
    )
