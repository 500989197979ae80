"""Running an ASGI app under uvicorn on a loopback socket the caller can learn the port of."""

from __future__ import annotations

import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

#: Any ASGI 3 application: ``await app(scope, receive, send)``.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def bind_loopback(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1 (``port`` 0: any free port), not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


class ReportingServer(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_ready()


def make_server(app: ASGIApp, on_ready: Callable[[], None] = lambda: None) -> ReportingServer:
    """A quiet uvicorn server for ``app`` (h11, no lifespan, no access log)."""
    config = uvicorn.Config(
        app,
        http="h11",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    return ReportingServer(config, on_ready)


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    *,
    name: str = "asgi-server",
    start_timeout: float = START_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a daemon thread; yields its base URL once it is ready.

    The socket is bound before the server starts, so no other process can take
    the port in between. Raises :class:`RuntimeError` naming ``name`` if the
    server fails to start, or does not start within ``start_timeout`` seconds,
    or (on leaving) does not stop within twice ``stop_timeout``.
    """
    settled = threading.Event()  # set once the server is ready, or once its thread ends
    failures: list[BaseException] = []
    server = make_server(app, settled.set)
    sock = bind_loopback()

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # uvicorn reports start-up failures with sys.exit
            failures.append(error)
        finally:
            settled.set()

    thread = threading.Thread(target=run, name=name, daemon=True)
    try:
        thread.start()
        try:
            if not settled.wait(start_timeout):
                raise RuntimeError(f"{name} did not start within {start_timeout} s")
            if not server.started:
                cause = failures[0] if failures else None
                raise RuntimeError(f"{name} failed to start") from cause
            yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
        finally:
            _stop(server, thread, stop_timeout)
    finally:
        sock.close()


def _stop(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    """Ask for a graceful stop; force it (open connections dropped) if that takes too long."""
    server.should_exit = True
    thread.join(timeout)
    if thread.is_alive():
        server.force_exit = True
        thread.join(timeout)
    if thread.is_alive():
        raise RuntimeError(f"{thread.name} did not stop within {2 * timeout} s")


async def read_body(receive: Callable[[], Awaitable[Any]]) -> bytes:
    """The whole request body of an ASGI request (for small test apps; no size limit)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
