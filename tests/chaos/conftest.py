"""Fixtures: a tiny upstream ASGI app served by uvicorn on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chaos_upstream import Upstream

from seawall.examples.server import LOOPBACK, bind_loopback, serve_in_thread


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    app = Upstream()
    with serve_in_thread(app, name="chaos-upstream") as url:
        yield app, url


@pytest.fixture
def unused_url() -> Iterator[str]:
    """A loopback URL nobody listens on: its port stays bound, not listening, for the test."""
    with bind_loopback() as sock:
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
