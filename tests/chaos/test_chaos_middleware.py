"""The middleware in front of an ordinary ASGI app served by uvicorn (not our server)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from chaos_upstream import Upstream

from seawall.chaos import ChaosState, ErrorFault, FaultSet, Rule
from seawall.chaos.asgi import Message
from seawall.chaos.middleware import ChaosMiddleware, ResetUnsupported
from seawall.examples.server import serve_in_thread

DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def served() -> Iterator[tuple[Upstream, ChaosState, httpx.Client]]:
    app, state = Upstream(), ChaosState()
    with serve_in_thread(ChaosMiddleware(app, state), name="chaos-middleware") as url:
        with httpx.Client(base_url=url, timeout=5, trust_env=False) as http:
            yield app, state, http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_errors_and_pass_through(served: tuple[Upstream, ChaosState, httpx.Client]) -> None:
    app, state, http = served
    state.set_faults(FaultSet((Rule(errors=(ErrorFault(502, 1.0),), retry_after=0),)))
    response = http.get("/a")
    assert (response.status_code, response.headers["retry-after"]) == (502, "0")
    state.set_faults(FaultSet())
    assert http.get("/a").json()["path"] == "/a"
    assert app.count("GET /a") == 1


def test_reset_under_uvicorn(served: tuple[Upstream, ChaosState, httpx.Client]) -> None:
    app, state, http = served
    state.set_faults(FaultSet((Rule(reset=1.0),)))
    with pytest.raises(DROPPED):
        http.get("/a")
    assert app.count("GET /a") == 0


def test_lost_response_under_uvicorn(served: tuple[Upstream, ChaosState, httpx.Client]) -> None:
    app, state, http = served
    state.set_faults(FaultSet((Rule(lost=1.0),)))
    with pytest.raises(DROPPED):
        http.post("/orders", json={"n": 1})
    assert app.count("POST /orders") == 1
    assert state.stats().faults == {"lost": 1}


def test_admin_api_is_served_by_the_middleware(
    served: tuple[Upstream, ChaosState, httpx.Client],
) -> None:
    _, state, http = served
    assert http.put("/_chaos/faults", json={"rules": [{"reset": 1}]}).status_code == 200
    assert state.faults == FaultSet((Rule(reset=1.0),))


@pytest.mark.anyio
async def test_reset_on_a_server_without_a_way_to_reset_is_a_clear_error() -> None:
    state = ChaosState(FaultSet((Rule(reset=1.0),)))
    middleware = ChaosMiddleware(Upstream(), state)
    scope = {"type": "http", "method": "GET", "path": "/a", "headers": [], "query_string": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        raise AssertionError("nothing may be sent for a reset")

    with pytest.raises(ResetUnsupported, match="offers no way to reset a connection"):
        await middleware(scope, receive, send)
