"""Request bodies and constants shared by the example-service tests."""

from __future__ import annotations

import uuid
from typing import Any

# Inventory's initial units per item in these tests: small enough to run out.
TEST_STOCK = 10


def charge_body(
    order_id: str | None = None, token: str = "tok_visa", amount: int = 1999
) -> dict[str, Any]:
    """A ``NewCharge`` for a fresh (or the given) order."""
    return {
        "orderId": order_id or str(uuid.uuid4()),
        "amount": {"amount": amount, "currency": "EUR"},
        "paymentMethod": {"type": "card", "token": token},
    }
