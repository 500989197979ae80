"""The tiny ASGI layer: routing, limits and failures (driven through httpx's ASGI transport)."""

from __future__ import annotations

import httpx
import pytest

from seawall.examples.asgi import MAX_BODY_BYTES, HttpError, JsonApp, Request, Response, Router


async def _echo(request: Request) -> Response:
    return Response(
        200, {"params": request.path_params, "query": request.query, "size": len(request.body)}
    )


async def _broken(request: Request) -> Response:
    raise ValueError("secret detail")


async def _refuse(request: Request) -> Response:
    raise HttpError(409, "taken", "already taken", [{"pointer": "/a", "message": "no"}])


def _client() -> httpx.AsyncClient:
    router = Router()
    router.add("POST", "/things/{thingId}/parts/{part}", _echo)
    router.add("GET", "/broken", _broken)
    router.add("GET", "/refuse", _refuse)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=JsonApp(router)), base_url="http://test"
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_path_parameters_and_query_reach_the_handler() -> None:
    async with _client() as client:
        response = await client.post("/things/a%20b/parts/7?x=1&x=2", content=b"abc")
    assert response.json() == {
        "params": {"thingId": "a b", "part": "7"},
        "query": {"x": "1"},
        "size": 3,
    }


@pytest.mark.anyio
async def test_parameters_do_not_span_segments() -> None:
    async with _client() as client:
        assert (await client.post("/things/a/b/parts/7")).status_code == 404


@pytest.mark.anyio
async def test_wrong_method_is_405() -> None:
    async with _client() as client:
        response = await client.get("/things/a/parts/7")
    assert response.status_code == 405
    assert response.json()["code"] == "method-not-allowed"


@pytest.mark.anyio
async def test_http_error_becomes_the_error_model() -> None:
    async with _client() as client:
        response = await client.get("/refuse")
    assert response.status_code == 409
    assert response.json() == {
        "code": "taken",
        "message": "already taken",
        "details": [{"pointer": "/a", "message": "no"}],
    }


@pytest.mark.anyio
async def test_unhandled_error_is_a_500_without_details() -> None:
    async with _client() as client:
        response = await client.get("/broken")
    assert response.status_code == 500
    assert "secret" not in response.text


@pytest.mark.anyio
async def test_oversized_body_is_413() -> None:
    async with _client() as client:
        response = await client.post("/things/a/parts/1", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
