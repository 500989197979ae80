"""Many concurrent requests against one service: side effects stay correct."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import httpx
import pytest

from seawall.examples.testing import running_service
from .bodies import charge_body

CONCURRENT = 40


async def _post_all(
    url: str, path: str, requests: list[tuple[dict[str, object], dict[str, str]]]
) -> list[httpx.Response]:
    results: list[httpx.Response] = []
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def post(body: dict[str, object], headers: dict[str, str]) -> None:
            results.append(await client.post(path, json=body, headers=headers))

        async with anyio.create_task_group() as group:
            for body, headers in requests:
                group.start_soon(post, body, headers)
    return results


@pytest.mark.anyio
async def test_concurrent_charges_with_one_key_charge_once(tmp_path: Path) -> None:
    db = tmp_path / "payments.db"
    body = charge_body()
    with running_service("payments", db) as url:
        responses = await _post_all(
            url, "/charges", [(body, {"Idempotency-Key": "once"})] * CONCURRENT
        )
    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM charges").fetchone()[0] == 1


@pytest.mark.anyio
async def test_concurrent_reservations_never_overdraw_stock(tmp_path: Path) -> None:
    stock = 15
    db = tmp_path / "inventory.db"
    order = "00000000-0000-4000-8000-000000000000"
    requests: list[tuple[dict[str, object], dict[str, str]]] = [
        (
            {"orderId": order, "lines": [{"sku": "KB-001", "quantity": 1}]},
            {"Idempotency-Key": f"r{i}"},
        )
        for i in range(CONCURRENT)
    ]
    with running_service("inventory", db, stock=stock) as url:
        responses = await _post_all(url, "/reservations", requests)
        level = httpx.get(f"{url}/items/KB-001/stock").json()
    assert sorted(r.status_code for r in responses) == [201] * stock + [409] * (CONCURRENT - stock)
    assert level == {"sku": "KB-001", "onHand": stock, "reserved": stock, "available": 0}


@pytest.mark.anyio
async def test_concurrent_refunds_refund_once(tmp_path: Path) -> None:
    db = tmp_path / "payments.db"
    with running_service("payments", db) as url:
        charge = httpx.post(f"{url}/charges", json=charge_body()).json()
        responses = await _post_all(
            url, f"/charges/{charge['id']}/refund", [({"reason": "saga-rollback"}, {})] * CONCURRENT
        )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["refund"]["id"] for r in responses}) == 1
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM refunds").fetchone()[0] == 1
