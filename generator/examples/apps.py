"""Builds any of the three example services by name."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from seawall.examples import inventory, orders, payments
from seawall.examples.asgi import JsonApp
from seawall.examples.idempotency import Hooks

ServiceName = Literal["orders", "inventory", "payments"]
SERVICE_NAMES: tuple[ServiceName, ...] = get_args(ServiceName)


def create_app(
    name: ServiceName,
    db_path: Path,
    *,
    hooks: Hooks = Hooks(),
    stock: int = inventory.DEFAULT_STOCK,
) -> JsonApp:
    """The named service as an ASGI app on ``db_path`` (``stock``: inventory's initial units per item)."""
    if name == "orders":
        return orders.create_app(db_path, hooks)
    if name == "inventory":
        return inventory.create_app(db_path, hooks, stock=stock)
    if name == "payments":
        return payments.create_app(db_path, hooks)
    raise ValueError(f"unknown service {name!r}; expected one of {', '.join(SERVICE_NAMES)}")
