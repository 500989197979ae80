"""Run the example services in-process for tests: uvicorn in a thread on a free port.

    with running_service("payments", tmp_path / "payments.db") as url:
        httpx.post(f"{url}/charges", ...)

:class:`Gate` holds requests at the point where they have claimed their
idempotency key but not yet written anything, so "still in flight" can be
tested deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio.to_thread

from seawall.examples.apps import SERVICE_NAMES, ServiceName, create_app
from seawall.examples.idempotency import Hooks
from seawall.examples.inventory import DEFAULT_STOCK
from seawall.examples.server import LOOPBACK, bind_loopback, make_server

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class Gate:
    """Holds requests of one operation (all, if ``operation`` is None) until released."""

    def __init__(self, operation: str | None = None) -> None:
        self.operation = operation
        self.entered = threading.Event()
        self._open = threading.Event()

    async def before_effect(self, operation: str) -> None:
        """The :class:`Hooks` callback: signal arrival, then wait for :meth:`release`."""
        if self.operation is not None and operation != self.operation:
            return
        self.entered.set()
        await anyio.to_thread.run_sync(self._open.wait)

    def release(self) -> None:
        """Let every held and future request through."""
        self._open.set()

    @property
    def hooks(self) -> Hooks:
        """Hooks to pass to a service so this gate holds its requests."""
        return Hooks(before_effect=self.before_effect)


@contextmanager
def running_service(
    name: ServiceName,
    db_path: Path,
    *,
    hooks: Hooks = Hooks(),
    stock: int = DEFAULT_STOCK,
) -> Iterator[str]:
    """Serve one service on 127.0.0.1 in a background thread; yields its base URL."""
    server_ready = threading.Event()
    server = make_server(create_app(name, db_path, hooks=hooks, stock=stock), server_ready.set)
    sock = bind_loopback()
    url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"seawall-{name}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # Wait for readiness, but notice a server thread that died instead.
        while not server_ready.wait(0.05):
            if not thread.is_alive():
                raise RuntimeError(f"{name} service failed to start")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} service did not start within {START_TIMEOUT} s")
        yield url
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()


@contextmanager
def running_services(
    directory: Path,
    *,
    hooks: Mapping[ServiceName, Hooks] | None = None,
    stock: int = DEFAULT_STOCK,
) -> Iterator[dict[ServiceName, str]]:
    """All three services, databases ``directory/<name>.db``; yields name → base URL."""
    with ExitStack() as stack:
        urls = {
            name: stack.enter_context(
                running_service(
                    name,
                    directory / f"{name}.db",
                    hooks=(hooks or {}).get(name, Hooks()),
                    stock=stock,
                )
            )
            for name in SERVICE_NAMES
        }
        yield urls
