"""Fixtures: a tiny upstream ASGI app served by uvicorn on a free loopback port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from chaos_upstream import Upstream, UvicornThread


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    app = Upstream()
    with UvicornThread(app) as served:
        yield app, served.url


@pytest.fixture
def unused_url() -> str:
    """A loopback URL nobody listens on (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % sock.getsockname()[1]
