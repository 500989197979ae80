"""Read-only checks across the three example databases.

After any number of orders, retries, faults and compensations, these must
hold; each broken rule is reported as a :class:`Violation`:

* ``charged-twice``: an order has more than one successful charge.
* ``charge-without-order``: a charge names an order the order service lacks.
* ``refunded-twice``: a charge has more than one refund.
* ``stock-mismatch``: an item's available units differ from its units on hand
  minus those held by active reservations.
* ``negative-stock``: an item has fewer than zero available units.
* ``reservation-without-order``: a reservation names an unknown order.
* ``confirmed-without-payment``: a confirmed order's charge is missing, is for
  another order, or was refunded.
* ``cancelled-but-charged``: a cancelled order still has an unrefunded charge.
* ``cancelled-but-reserved``: a cancelled order still holds an active reservation.

The last two are a saga's compensations not having run (yet): check once all
sagas have finished.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ViolationKind = Literal[
    "charged-twice",
    "charge-without-order",
    "refunded-twice",
    "stock-mismatch",
    "negative-stock",
    "reservation-without-order",
    "confirmed-without-payment",
    "cancelled-but-charged",
    "cancelled-but-reserved",
]


class InvariantCheckError(Exception):
    """A database could not be read (missing file, not a service database)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the id it concerns, and what was found."""

    kind: ViolationKind
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


@dataclass(frozen=True)
class InvariantReport:
    """What the checker found, with counts that put the violations in proportion."""

    violations: tuple[Violation, ...]
    orders_by_status: dict[str, int] = field(default_factory=dict)
    charges: int = 0
    refunds: int = 0
    active_reservations: int = 0

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return not self.violations

    def kinds(self) -> Counter[ViolationKind]:
        """How many violations of each kind."""
        return Counter(violation.kind for violation in self.violations)

    def __str__(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.orders_by_status.items()))
        lines = [
            f"orders: {statuses or 'none'}; charges: {self.charges}; refunds: {self.refunds};"
            f" active reservations: {self.active_reservations}",
            "invariants: all hold" if self.ok else f"invariants: {len(self.violations)} broken",
        ]
        lines += [f"  {violation}" for violation in self.violations]
        return "\n".join(lines)


# Each check: kind, SQL giving (subject, detail) rows. ``o``/``i``/``p`` are the
# orders, inventory and payments databases.
_CHECKS: tuple[tuple[ViolationKind, str], ...] = (
    (
        "charged-twice",
        "SELECT order_id, COUNT(*) || ' charges: ' || GROUP_CONCAT(id, ', ')"
        " FROM p.charges GROUP BY order_id HAVING COUNT(*) > 1 ORDER BY order_id",
    ),
    (
        "charge-without-order",
        "SELECT c.id, 'order ' || c.order_id || ' does not exist' FROM p.charges c"
        " WHERE c.order_id NOT IN (SELECT id FROM o.orders) ORDER BY c.id",
    ),
    (
        "refunded-twice",
        "SELECT charge_id, COUNT(*) || ' refunds' FROM p.refunds"
        " GROUP BY charge_id HAVING COUNT(*) > 1 ORDER BY charge_id",
    ),
    (
        "stock-mismatch",
        "SELECT it.sku, 'on hand ' || it.on_hand || ' - reserved ' || COALESCE(r.held, 0)"
        " || ' != available ' || it.available FROM i.items it LEFT JOIN"
        " (SELECT l.sku, SUM(l.quantity) AS held FROM i.reservation_lines l"
        "  JOIN i.reservations res ON res.id = l.reservation_id WHERE res.status = 'active'"
        "  GROUP BY l.sku) r ON r.sku = it.sku"
        " WHERE it.on_hand - COALESCE(r.held, 0) != it.available ORDER BY it.sku",
    ),
    (
        "negative-stock",
        "SELECT sku, 'available ' || available FROM i.items WHERE available < 0 ORDER BY sku",
    ),
    (
        "reservation-without-order",
        "SELECT r.id, 'order ' || r.order_id || ' does not exist' FROM i.reservations r"
        " WHERE r.order_id NOT IN (SELECT id FROM o.orders) ORDER BY r.id",
    ),
    (
        "confirmed-without-payment",
        "SELECT ord.id, CASE WHEN c.id IS NULL THEN 'charge ' || COALESCE(ord.charge_id, '(none)')"
        " || ' does not exist' WHEN c.order_id != ord.id THEN 'charge ' || c.id"
        " || ' is for order ' || c.order_id ELSE 'charge ' || c.id || ' was refunded' END"
        " FROM o.orders ord LEFT JOIN p.charges c ON c.id = ord.charge_id"
        " WHERE ord.status = 'confirmed'"
        " AND (c.id IS NULL OR c.order_id != ord.id OR c.status != 'succeeded') ORDER BY ord.id",
    ),
    (
        "cancelled-but-charged",
        "SELECT ord.id, 'charge ' || c.id || ' not refunded' FROM o.orders ord"
        " JOIN p.charges c ON c.order_id = ord.id"
        " WHERE ord.status = 'cancelled' AND c.status = 'succeeded' ORDER BY ord.id, c.id",
    ),
    (
        "cancelled-but-reserved",
        "SELECT ord.id, 'reservation ' || r.id || ' still active' FROM o.orders ord"
        " JOIN i.reservations r ON r.order_id = ord.id"
        " WHERE ord.status = 'cancelled' AND r.status = 'active' ORDER BY ord.id, r.id",
    ),
)


def _read_only_uri(path: Path) -> str:
    if not path.is_file():
        raise InvariantCheckError(f"database not found: {path}")
    return path.resolve().as_uri() + "?mode=ro"


def check_invariants(orders_db: Path, inventory_db: Path, payments_db: Path) -> InvariantReport:
    """Check every rule across the three service databases (opened read-only)."""
    uris = {
        alias: _read_only_uri(path)
        for alias, path in (("o", orders_db), ("i", inventory_db), ("p", payments_db))
    }
    connection = sqlite3.connect(":memory:", uri=True)
    try:
        for alias, uri in uris.items():
            connection.execute("ATTACH DATABASE ? AS " + alias, (uri,))
        # One read transaction: each file is seen as of one moment while the checks run.
        connection.execute("BEGIN")
        violations = tuple(
            Violation(kind, str(subject), str(detail))
            for kind, query in _CHECKS
            for subject, detail in connection.execute(query).fetchall()
        )
        statuses = dict(connection.execute("SELECT status, COUNT(*) FROM o.orders GROUP BY status"))
        counts = connection.execute(
            "SELECT (SELECT COUNT(*) FROM p.charges), (SELECT COUNT(*) FROM p.refunds),"
            " (SELECT COUNT(*) FROM i.reservations WHERE status = 'active')"
        ).fetchone()
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        raise InvariantCheckError(f"cannot check the example databases: {error}") from None
    finally:
        connection.close()
    return InvariantReport(
        violations=violations,
        orders_by_status=statuses,
        charges=counts[0],
        refunds=counts[1],
        active_reservations=counts[2],
    )
