"""Fixtures for the proving ground: generated clients, loaded once per session."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from seawall.examples.apps import ServiceName
from seawall.examples.generated import generate_clients


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def example_clients(tmp_path_factory: pytest.TempPathFactory) -> dict[ServiceName, ModuleType]:
    """The three example services' clients, generated from specs/ and imported."""
    return generate_clients(tmp_path_factory.mktemp("clients"))
