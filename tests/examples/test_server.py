"""serve_in_thread: one way for tests to run an ASGI app under uvicorn on loopback."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from seawall.examples.server import LOOPBACK, ReportingServer, serve_in_thread


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello " + scope["path"].encode()})


def threads_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_serves_on_loopback_and_stops_when_the_block_ends() -> None:
    with serve_in_thread(hello, name="hello-server") as url:
        assert url.startswith(f"http://{LOOPBACK}:")
        assert threads_named("hello-server")
        response = httpx.get(f"{url}/there", timeout=5, trust_env=False)
        assert (response.status_code, response.text) == (200, "hello /there")
    assert not threads_named("hello-server")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5, trust_env=False)


def test_two_servers_at_once_have_their_own_ports() -> None:
    with (
        serve_in_thread(hello, name="first") as first,
        serve_in_thread(hello, name="second") as second,
    ):
        assert first != second
        for url in (first, second):
            assert httpx.get(url, timeout=5, trust_env=False).status_code == 200


def test_a_server_that_cannot_start_is_reported_with_its_cause() -> None:
    # uvicorn reports an app it cannot import with sys.exit(1) in the server thread.
    no_app: Any = "seawall_no_such_module:app"
    with pytest.raises(RuntimeError, match="^broken-server failed to start$") as caught:
        with serve_in_thread(no_app, name="broken-server"):
            pytest.fail("the block must not run")
    assert isinstance(caught.value.__cause__, SystemExit)
    assert not threads_named("broken-server")


def test_a_server_that_never_gets_ready_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    async def stuck_startup(self: ReportingServer, sockets: Any = None) -> None:
        while not self.should_exit:  # never ready; gives up only when told to stop
            await asyncio.sleep(0.01)

    monkeypatch.setattr(ReportingServer, "startup", stuck_startup)
    with pytest.raises(RuntimeError, match="^slow-server did not start within 0.05 s$"):
        with serve_in_thread(hello, name="slow-server", start_timeout=0.05):
            pytest.fail("the block must not run")
    assert not threads_named("slow-server")


def test_a_server_that_does_not_stop_is_reported() -> None:
    entered, release = threading.Event(), threading.Event()

    async def blocking(scope: dict[str, Any], receive: Any, send: Any) -> None:
        entered.set()
        release.wait(10)  # blocks the event loop, so uvicorn cannot see should_exit
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def call(url: str) -> None:
        try:
            httpx.get(url, timeout=10, trust_env=False)
        except httpx.HTTPError:
            pass  # the server may drop the connection while it shuts down

    with pytest.raises(RuntimeError, match="^stuck-server did not stop within 0.1 s$"):
        with serve_in_thread(blocking, name="stuck-server", stop_timeout=0.05) as url:
            caller = threading.Thread(target=call, args=(url,))
            caller.start()
            assert entered.wait(10), "the request never reached the app"
    release.set()
    caller.join(10)
    for thread in threads_named("stuck-server"):
        thread.join(10)
    assert not threads_named("stuck-server")
