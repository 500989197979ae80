"""The chaos reverse proxy: forwarding app + middleware on our own HTTP server.

:func:`serve_proxy` runs it in the current event loop (the CLI does that);
:class:`ChaosProxy` runs it in a background thread for tests and scripts.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import httpx

from seawall.chaos.faults import FaultSet, Outage, OutageKind
from seawall.chaos.forward import ForwardingApp
from seawall.chaos.middleware import ChaosMiddleware
from seawall.chaos.planner import Clock
from seawall.chaos.server import HttpServer
from seawall.chaos.state import ChaosState, ChaosStats

log = logging.getLogger("seawall.chaos")

_REBIND_INTERVAL = 1.0  # seconds between attempts to listen again after a failure


@dataclass(frozen=True)
class ProxyConfig:
    """Where to listen and what to forward to."""

    upstream: str
    host: str = "127.0.0.1"
    port: int = 0
    admin_prefix: str = "/_chaos"
    upstream_timeout: float | None = 60.0
    verify: bool = True  # TLS verification of an https upstream


async def _apply_listener_state(server: HttpServer, state: ChaosState) -> None:
    """Close the listening socket during a 'refuse' window, reopen it outside one."""
    if state.refusing():
        await server.stop_listening()
    else:
        await server.resume_listening()


async def _govern_listener(server: HttpServer, state: ChaosState) -> None:
    """Keep the listener in step with 'refuse' windows as time passes and faults change."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(changed.set)

    unsubscribe = state.subscribe(wake)
    try:
        while True:
            changed.clear()
            wait = state.next_listener_change()
            try:
                await _apply_listener_state(server, state)
            except OSError as err:
                # Someone else took the port while it was closed: keep trying.
                log.error("cannot listen again on %s:%s: %s", server.host, server.port, err)
                wait = _REBIND_INTERVAL if wait is None else min(wait, _REBIND_INTERVAL)
            try:
                await asyncio.wait_for(changed.wait(), wait)
            except asyncio.TimeoutError:
                pass
    finally:
        unsubscribe()


async def serve_proxy(
    config: ProxyConfig,
    state: ChaosState,
    stop: asyncio.Event,
    ready: Callable[[HttpServer], None] = lambda _server: None,
) -> None:
    """Run the proxy until ``stop`` is set; ``ready`` is called once it listens."""
    async with httpx.AsyncClient(
        timeout=config.upstream_timeout, verify=config.verify, trust_env=False
    ) as client:
        app = ChaosMiddleware(ForwardingApp(config.upstream, client, state), state, config.admin_prefix)
        server = HttpServer(app, config.host, config.port)
        await server.start()
        state.restart_clock()
        await _apply_listener_state(server, state)
        governor = asyncio.create_task(_govern_listener(server, state))
        try:
            ready(server)
            await stop.wait()
        finally:
            governor.cancel()
            await server.close()


class ChaosProxy:
    """A chaos proxy in a background thread, driven from Python.

    >>> with ChaosProxy("http://127.0.0.1:8000", FaultSet(...)) as proxy:  # doctest: +SKIP
    ...     httpx.get(proxy.url + "/orders"); proxy.stats().received
    """

    def __init__(
        self,
        upstream: str,
        faults: FaultSet | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_prefix: str = "/_chaos",
        upstream_timeout: float | None = 60.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = ProxyConfig(upstream, host, port, admin_prefix, upstream_timeout)
        self.state = ChaosState(faults, clock=clock)
        self.port = port
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://{self.config.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ChaosProxy:
        """Start serving; returns once the proxy listens (or raises why it could not)."""
        self._thread = threading.Thread(target=self._run, name="seawall-chaos-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the chaos proxy did not start within {timeout} s")
        if self._failure is not None:
            raise self._failure
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._server = None  # refresh() has nothing to act on any more

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def set_faults(self, faults: FaultSet) -> None:
        """Replace the fault set; returns once the listener follows it."""
        self.state.set_faults(faults)
        self.refresh()

    @property
    def faults(self) -> FaultSet:
        """The fault set in force."""
        return self.state.faults

    def outage_now(self, duration: float, kind: OutageKind = 503) -> Outage:
        """Fail every request from now for ``duration`` seconds (``kind``: status or name).

        Returns once the listener follows (closed at once for ``"refuse"``).
        """
        outage = self.state.outage_now(duration, kind)
        self.refresh()
        return outage

    def clear_outages(self) -> None:
        """End outages started with :meth:`outage_now`; returns once the listener follows."""
        self.state.clear_outages()
        self.refresh()

    def refresh(self, timeout: float = 10.0) -> None:
        """Open or close the listener for the current time now, not at the next wake-up.

        Needed after moving a fake clock; the methods that change faults call it.
        """
        if self._loop is not None and self._server is not None:
            applied = asyncio.run_coroutine_threadsafe(
                _apply_listener_state(self._server, self.state), self._loop
            )
            applied.result(timeout)

    def stats(self) -> ChaosStats:
        """A snapshot of what the proxy saw."""
        return self.state.stats()

    def reset_stats(self) -> None:
        """Zero the counters."""
        self.state.reset_stats()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # reported to start(), which re-raises it
            self._failure = err
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(server: HttpServer) -> None:
            self._server = server
            self.port = server.port
            self._ready.set()

        await serve_proxy(self.config, self.state, self._stop, ready)
