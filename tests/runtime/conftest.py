"""Shared fixtures for the runtime's tests."""

from __future__ import annotations

import pytest

from seawall_runtime import FakeClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Which client a test drives: ``ResilientClient`` or ``AsyncResilientClient``."""
    return str(request.param)
