"""Fixtures for the example services: real uvicorn servers on loopback, SQLite in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seawall.examples.apps import ServiceName
from seawall.examples.testing import running_services

# A stock level small enough that tests can run it out.
TEST_STOCK = 10


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def service_urls(tmp_path: Path) -> Iterator[dict[ServiceName, str]]:
    """All three services on free loopback ports, databases in tmp_path."""
    with running_services(tmp_path, stock=TEST_STOCK) as urls:
        yield urls


@pytest.fixture
def orders(service_urls: dict[ServiceName, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_urls["orders"], timeout=10) as client:
        yield client


@pytest.fixture
def inventory(service_urls: dict[ServiceName, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_urls["inventory"], timeout=10) as client:
        yield client


@pytest.fixture
def payments(service_urls: dict[ServiceName, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service_urls["payments"], timeout=10) as client:
        yield client
