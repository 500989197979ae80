"""Run the example services in-process for tests: uvicorn in a thread on a loopback port.

    with running_service("payments", tmp_path / "payments.db") as url:
        httpx.post(f"{url}/charges", ...)

:class:`Gate` holds requests at the point where they have claimed their
idempotency key but not yet written anything, so "still in flight" can be
tested deterministically.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import anyio.to_thread

from seawall.examples.apps import SERVICE_NAMES, ServiceName, create_app
from seawall.examples.idempotency import Hooks
from seawall.examples.inventory import DEFAULT_STOCK
from seawall.examples.server import serve_in_thread


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
    app = create_app(name, db_path, hooks=hooks, stock=stock)
    with serve_in_thread(app, name=f"seawall-{name}") as url:
        yield url


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
