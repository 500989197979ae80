"""Generated clients against a hostile server: every broken answer ends in a clear, typed error.

The client is generated from ``hostile.yaml`` (one operation, ``getThing``,
whose 200 is a ``Thing {id: integer, name: string}``); the server is
:mod:`proving_hostile` under uvicorn on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from proving_hostile import HTML, INVALID_JSON, WRONG_SCHEMA, HostileApp

from seawall.examples.generated import generate_package
from seawall.examples.server import serve_in_thread
from seawall_runtime import (
    ApiError,
    RequestTimeout,
    ResponseTooLarge,
    ResponseValidationError,
    RetryPolicy,
    TimeoutPolicy,
)

pytestmark = pytest.mark.anyio
SPEC = Path(__file__).parent / "hostile.yaml"
ONE_ATTEMPT = RetryPolicy(attempts=1)
DEFAULT_LIMIT = 64 * 1024 * 1024  # the runtime's documented default max_response_bytes


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return generate_package(SPEC, tmp_path_factory.mktemp("hostile"), "hostile_client")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HostileApp, str, HostileApp, str]]:
    """The hostile server, and a second one on another port (another origin)."""
    app, other = HostileApp(), HostileApp()
    with (
        serve_in_thread(app, name="hostile-server") as url,
        serve_in_thread(other, name="hostile-other-origin") as other_url,
    ):
        app.redirect_to = other_url
        yield app, url, other, other_url


@pytest.fixture
def app(servers: tuple[HostileApp, str, HostileApp, str]) -> HostileApp:
    servers[0].hits.clear()
    servers[2].hits.clear()
    return servers[0]


@pytest.fixture
async def client(hostile_client: ModuleType, servers: tuple[HostileApp, str, HostileApp, str]) -> Any:
    async with hostile_client.AsyncClient(servers[1]) as client:
        yield client


async def test_a_good_answer_parses(client: Any) -> None:
    thing = await client.get_thing("ok")
    assert (thing.id, thing.name) == (7, "widget")


async def test_invalid_json_is_a_validation_error_with_the_raw_body(client: Any) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        await client.get_thing("invalid-json")
    assert caught.value.status == 200
    assert caught.value.content == INVALID_JSON
    assert "getThing" in str(caught.value)
    assert "Invalid JSON" in str(caught.value)


async def test_a_body_that_does_not_match_names_the_field(client: Any) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        await client.get_thing("wrong-schema")
    message = str(caught.value)
    assert "getThing" in message and "at id:" in message, message
    assert caught.value.content == WRONG_SCHEMA


async def test_an_empty_200_is_a_validation_error_not_a_none(client: Any) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        await client.get_thing("empty")
    assert caught.value.status == 200
    assert caught.value.content == b""
    assert "(body)" in str(caught.value)


async def test_a_wrong_content_type_is_a_validation_error_with_the_raw_body(client: Any) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        await client.get_thing("wrong-content-type")
    assert caught.value.status == 200
    assert caught.value.content == HTML


async def test_a_wrong_content_type_is_named_in_the_message(client: Any) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        await client.get_thing("wrong-content-type")
    assert "text/html" in str(caught.value)


async def test_a_trickling_body_is_cut_off_by_the_attempt_timeout(client: Any, app: HostileApp) -> None:
    with pytest.raises(RequestTimeout) as caught:
        await client.get_thing(
            "trickle", timeout=TimeoutPolicy(connect=1, attempt=0.5, total=2), retry=ONE_ATTEMPT
        )
    assert "getThing" in str(caught.value)
    assert app.hits["trickle"] == 1


async def test_the_default_response_size_limit_holds(client: Any, app: HostileApp) -> None:
    app.huge_chunks = DEFAULT_LIMIT // len(b"x" * 65536) + 1
    with pytest.raises(ResponseTooLarge) as caught:
        await client.get_thing("huge", retry=ONE_ATTEMPT)
    assert "getThing" in str(caught.value)


async def test_the_response_size_limit_is_configurable(
    hostile_client: ModuleType, servers: tuple[HostileApp, str, HostileApp, str]
) -> None:
    servers[0].huge_chunks = 2
    async with hostile_client.AsyncClient(servers[1], max_response_bytes=65536) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get_thing("huge", retry=ONE_ATTEMPT)


async def test_a_same_origin_redirect_is_followed(client: Any, app: HostileApp) -> None:
    answer = await client.get_thing_detailed("same-origin")
    assert answer.status == 200 and answer.value.id == 7
    assert (app.hits["same-origin"], app.hits["ok"]) == (1, 1)


async def test_a_redirect_to_another_origin_is_not_followed(
    client: Any, servers: tuple[HostileApp, str, HostileApp, str]
) -> None:
    app, _, other, _ = servers
    with pytest.raises(ApiError) as caught:
        await client.get_thing("other-origin")
    assert caught.value.status == 302
    assert caught.value.headers["location"].startswith(servers[3])
    assert sum(other.hits.values()) == 0


async def test_a_redirect_loop_ends_after_ten_redirects(client: Any, app: HostileApp) -> None:
    with pytest.raises(ApiError) as caught:
        await client.get_thing("loop", retry=ONE_ATTEMPT)
    assert caught.value.status == 302
    assert app.hits["loop"] == 11  # the request and ten redirects
