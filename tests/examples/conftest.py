"""Fixtures for the example services: real uvicorn servers on loopback, SQLite in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seawall.examples.apps import ServiceName
from seawall.examples.testing import running_service, running_services

from .bodies import TEST_STOCK


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def service_urls(tmp_path: Path) -> Iterator[dict[ServiceName, str]]:
    """All three services on free loopback ports, databases in tmp_path."""
    with running_services(tmp_path, stock=TEST_STOCK) as urls:
        yield urls


def _client(name: ServiceName, tmp_path: Path) -> Iterator[httpx.Client]:
    with running_service(name, tmp_path / f"{name}.db", stock=TEST_STOCK) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield client


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client for an order service of its own."""
    yield from _client("orders", tmp_path)


@pytest.fixture
def inventory(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client for an inventory service of its own (TEST_STOCK units per item)."""
    yield from _client("inventory", tmp_path)


@pytest.fixture
def payments(tmp_path: Path) -> Iterator[httpx.Client]:
    """A client for a payment service of its own."""
    yield from _client("payments", tmp_path)
