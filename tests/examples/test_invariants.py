"""The invariant checker: silent on a consistent system, precise on each kind of damage."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from seawall.examples import inventory, orders, payments
from seawall.examples.apps import ServiceName
from seawall.examples.db import Database
from seawall.examples.invariants import InvariantCheckError, check_invariants

CONFIRMED = "11111111-1111-4111-8111-111111111111"
CANCELLED = "22222222-2222-4222-8222-222222222222"
NOWHERE = "99999999-9999-4999-8999-999999999999"
T = "2026-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Dbs:
    orders: sqlite3.Connection
    inventory: sqlite3.Connection
    payments: sqlite3.Connection


def _good_system(directory: Path) -> tuple[Path, Path, Path]:
    """One confirmed, paid order holding stock; one cancelled order fully compensated."""
    paths = (directory / "orders.db", directory / "inventory.db", directory / "payments.db")
    Database(paths[0], orders.SCHEMA)
    inventory.seed(Database(paths[1], inventory.SCHEMA), inventory.CATALOGUE, 10)
    Database(paths[2], payments.SCHEMA)
    with _open(paths) as dbs:
        dbs.orders.executemany(
            "INSERT INTO orders VALUES (?, 'c', ?, '[]', 100, 'EUR', ?, ?, ?, ?)",
            [
                (CONFIRMED, "confirmed", "ch-1", None, T, T),
                (CANCELLED, "cancelled", None, "saga-rollback", T, T),
            ],
        )
        dbs.payments.executemany(
            "INSERT INTO charges VALUES (?, ?, 100, 'EUR', '4242', ?, ?)",
            [("ch-1", CONFIRMED, "succeeded", T), ("ch-2", CANCELLED, "refunded", T)],
        )
        dbs.payments.execute(
            "INSERT INTO refunds VALUES ('rf-2', 'ch-2', 100, 'EUR', 'saga-rollback', ?)", (T,)
        )
        dbs.inventory.executemany(
            "INSERT INTO reservations VALUES (?, ?, ?, ?, ?)",
            [("rs-1", CONFIRMED, "active", T, None), ("rs-2", CANCELLED, "released", T, T)],
        )
        dbs.inventory.executemany(
            "INSERT INTO reservation_lines VALUES (?, 0, 'KB-001', ?)", [("rs-1", 3), ("rs-2", 4)]
        )
        dbs.inventory.execute("UPDATE items SET available = 7 WHERE sku = 'KB-001'")
    return paths


class _open:
    def __init__(self, paths: tuple[Path, Path, Path]) -> None:
        self.connections = [sqlite3.connect(p) for p in paths]

    def __enter__(self) -> Dbs:
        return Dbs(*self.connections)

    def __exit__(self, *exc: object) -> None:
        for connection in self.connections:
            connection.commit()
            connection.close()


def _charge_twice(dbs: Dbs) -> None:
    dbs.payments.execute(
        "INSERT INTO charges VALUES ('ch-3', ?, 100, 'EUR', '4242', 'refunded', ?)", (CONFIRMED, T)
    )
    dbs.payments.execute(
        "INSERT INTO refunds VALUES ('rf-3', 'ch-3', 100, 'EUR', 'duplicate', ?)", (T,)
    )


def _charge_nobody(dbs: Dbs) -> None:
    dbs.payments.execute(
        "INSERT INTO charges VALUES ('ch-9', ?, 100, 'EUR', '4242', 'succeeded', ?)", (NOWHERE, T)
    )


def _refund_twice(dbs: Dbs) -> None:
    dbs.payments.execute(
        "INSERT INTO refunds VALUES ('rf-9', 'ch-2', 100, 'EUR', 'saga-rollback', ?)", (T,)
    )


def _lose_stock(dbs: Dbs) -> None:
    dbs.inventory.execute("UPDATE items SET available = available - 1 WHERE sku = 'MS-002'")


def _overdraw_stock(dbs: Dbs) -> None:
    dbs.inventory.execute("UPDATE items SET on_hand = 2, available = -1 WHERE sku = 'CB-004'")
    dbs.inventory.execute("INSERT INTO reservation_lines VALUES ('rs-1', 1, 'CB-004', 3)")


def _reserve_for_nobody(dbs: Dbs) -> None:
    dbs.inventory.execute(
        "INSERT INTO reservations VALUES ('rs-9', ?, 'active', ?, NULL)", (NOWHERE, T)
    )


def _confirm_with_missing_charge(dbs: Dbs) -> None:
    dbs.orders.execute("UPDATE orders SET charge_id = 'ch-404' WHERE id = ?", (CONFIRMED,))


def _refund_confirmed_order(dbs: Dbs) -> None:
    dbs.payments.execute("UPDATE charges SET status = 'refunded' WHERE id = 'ch-1'")
    dbs.payments.execute(
        "INSERT INTO refunds VALUES ('rf-1', 'ch-1', 100, 'EUR', 'duplicate', ?)", (T,)
    )


def _keep_money_of_cancelled(dbs: Dbs) -> None:
    dbs.payments.execute("UPDATE charges SET status = 'succeeded' WHERE id = 'ch-2'")
    dbs.payments.execute("DELETE FROM refunds WHERE id = 'rf-2'")


def _keep_stock_of_cancelled(dbs: Dbs) -> None:
    dbs.inventory.execute("UPDATE reservations SET status = 'active' WHERE id = 'rs-2'")
    dbs.inventory.execute("UPDATE items SET available = 3 WHERE sku = 'KB-001'")


DAMAGE: dict[str, tuple[Callable[[Dbs], None], str, str]] = {
    "charged-twice": (_charge_twice, CONFIRMED, "2 charges"),
    "charge-without-order": (_charge_nobody, "ch-9", NOWHERE),
    "refunded-twice": (_refund_twice, "ch-2", "2 refunds"),
    "stock-mismatch": (_lose_stock, "MS-002", "available 9"),
    "negative-stock": (_overdraw_stock, "CB-004", "available -1"),
    "reservation-without-order": (_reserve_for_nobody, "rs-9", NOWHERE),
    "confirmed-without-payment": (_confirm_with_missing_charge, CONFIRMED, "ch-404 does not exist"),
    "confirmed-without-payment/refunded": (_refund_confirmed_order, CONFIRMED, "was refunded"),
    "cancelled-but-charged": (_keep_money_of_cancelled, CANCELLED, "ch-2 not refunded"),
    "cancelled-but-reserved": (_keep_stock_of_cancelled, CANCELLED, "rs-2 still active"),
}


def test_consistent_system_has_no_violations(tmp_path: Path) -> None:
    report = check_invariants(*_good_system(tmp_path))
    assert report.ok, str(report)
    assert report.orders_by_status == {"confirmed": 1, "cancelled": 1}
    assert (report.charges, report.refunds, report.active_reservations) == (2, 1, 1)
    assert "invariants: all hold" in str(report)


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_each_kind_of_damage_is_reported_alone(tmp_path: Path, case: str) -> None:
    damage, subject, detail = DAMAGE[case]
    paths = _good_system(tmp_path)
    with _open(paths) as dbs:
        damage(dbs)
    report = check_invariants(*paths)
    assert [v.kind for v in report.violations] == [case.split("/")[0]], str(report)
    assert report.violations[0].subject == subject
    assert detail in report.violations[0].detail
    assert str(report.violations[0]) in str(report)


def test_missing_database_is_named(tmp_path: Path) -> None:
    orders_db, inventory_db, _ = _good_system(tmp_path)
    with pytest.raises(InvariantCheckError, match="database not found: .*absent.db"):
        check_invariants(orders_db, inventory_db, tmp_path / "absent.db")


def test_file_that_is_not_a_service_database_is_reported(tmp_path: Path) -> None:
    orders_db, inventory_db, payments_db = _good_system(tmp_path)
    with pytest.raises(InvariantCheckError, match="cannot check"):
        check_invariants(orders_db, inventory_db, orders_db)


def test_real_services_after_a_saga_and_a_rollback_are_consistent(
    service_urls: dict[ServiceName, str], tmp_path: Path
) -> None:
    with httpx.Client() as http:
        for pay_with in ("tok_visa", "tok_declined"):
            line = {
                "sku": "KB-001",
                "quantity": 2,
                "unitPrice": {"amount": 8999, "currency": "EUR"},
            }
            order = http.post(
                f"{service_urls['orders']}/orders", json={"customerId": "c", "lines": [line]}
            ).json()
            reservation = http.post(
                f"{service_urls['inventory']}/reservations",
                json={"orderId": order["id"], "lines": [{"sku": "KB-001", "quantity": 2}]},
            ).json()
            charge = http.post(
                f"{service_urls['payments']}/charges",
                json={
                    "orderId": order["id"],
                    "amount": order["total"],
                    "paymentMethod": {"type": "card", "token": pay_with},
                },
            )
            if charge.status_code == 201:
                http.post(
                    f"{service_urls['orders']}/orders/{order['id']}/confirm",
                    json={"chargeId": charge.json()["id"]},
                )
            else:  # compensate in reverse
                http.post(f"{service_urls['inventory']}/reservations/{reservation['id']}/release")
                http.post(
                    f"{service_urls['orders']}/orders/{order['id']}/cancel",
                    json={"reason": "payment-declined"},
                )
        report = check_invariants(
            tmp_path / "orders.db", tmp_path / "inventory.db", tmp_path / "payments.db"
        )
    assert report.ok, str(report)
    assert report.orders_by_status == {"cancelled": 1, "confirmed": 1}
    assert report.active_reservations == 1
