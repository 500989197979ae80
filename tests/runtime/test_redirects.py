"""Same-origin redirects inside one attempt, and errors that mean "never sent".

Sync and async drivers over an in-process transport: each test's handler
plays the server and records every request that reached it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from seawall_runtime import (
    AsyncResilientClient,
    FakeClock,
    Operation,
    Outcome,
    Policy,
    RequestTimeout,
    ResilientClient,
    RetryPolicy,
)

Handler = Callable[[httpx.Request], httpx.Response]
BODY_HEADERS = ("content-type", "content-length", "transfer-encoding")
SECRET = "Bearer only-for-api.test"


def send(
    mode: str, handler: Handler, method: str, url: str, *, policy: Policy | None = None, **kw: Any
) -> Outcome:
    """One call through the sync or the async client (no breaker, no budget)."""
    options: dict[str, Any] = {
        "transport": httpx.MockTransport(handler),
        "policy": policy or Policy(retry=None),
        "breaker": None,
        "budget": None,
        "clock": FakeClock(),
    }
    if mode == "sync":
        with ResilientClient("http://api.test", **options) as client:
            return client.request(method, url, **kw)

    async def run() -> Outcome:
        async with AsyncResilientClient("http://api.test", **options) as client:
            return await client.request(method, url, **kw)

    return anyio.run(run)


def streamed(mode: str, *chunks: bytes) -> Iterator[bytes] | AsyncIterator[bytes]:
    """A body with no length that can be read only once, as each driver takes it."""
    if mode == "sync":
        return iter(chunks)

    async def produce() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return produce()


class Server:
    """Answers ``redirects`` (path → (status, Location)) and 200 otherwise."""

    def __init__(self, redirects: dict[str, tuple[int, str]]) -> None:
        self.redirects = redirects
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path in self.redirects:
            status, location = self.redirects[request.url.path]
            return httpx.Response(status, headers={"Location": location})
        return httpx.Response(200)


@pytest.mark.parametrize(
    ("status", "body"),
    [(303, "json"), (301, "json"), (302, "json"), (303, "stream"), (302, "stream")],
)
def test_a_post_redirected_by_301_302_or_303_becomes_a_get_without_body(
    mode: str, status: int, body: str
) -> None:
    server = Server({"/orders": (status, "/orders/7")})
    content: dict[str, Any] = (
        {"json": {"n": 1}} if body == "json" else {"content": streamed(mode, b"ab", b"cd")}
    )
    outcome = send(mode, server, "POST", "/orders", headers={"Authorization": SECRET}, **content)
    assert outcome.status == 200
    first, second = server.seen
    assert first.method == "POST"
    assert first.content == (b'{"n":1}' if body == "json" else b"abcd")
    assert any(name in first.headers for name in BODY_HEADERS)
    assert second.method == "GET" and second.url.path == "/orders/7"
    assert second.content == b""
    assert [name for name in BODY_HEADERS if name in second.headers] == []
    assert second.headers["authorization"] == SECRET  # same origin: kept


def test_a_head_redirected_by_303_stays_a_head(mode: str) -> None:
    server = Server({"/orders": (303, "/orders/7")})
    assert send(mode, server, "HEAD", "/orders").status == 200
    assert [(r.method, r.url.path) for r in server.seen] == [
        ("HEAD", "/orders"),
        ("HEAD", "/orders/7"),
    ]


def test_a_put_redirected_by_302_keeps_its_method_and_body(mode: str) -> None:
    server = Server({"/orders/7": (302, "/v2/orders/7")})
    assert send(mode, server, "PUT", "/orders/7", content=b"payload").status == 200
    assert [(r.method, r.url.path, r.content) for r in server.seen] == [
        ("PUT", "/orders/7", b"payload"),
        ("PUT", "/v2/orders/7", b"payload"),
    ]


@pytest.mark.parametrize("status", [307, 308])
def test_a_post_redirected_by_307_or_308_is_sent_again_unchanged(mode: str, status: int) -> None:
    server = Server({"/orders": (status, "/v2/orders")})
    operation = Operation("create", "POST", "/orders", idempotency_key_header="Idempotency-Key")
    outcome = send(
        mode,
        server,
        "POST",
        "/orders",
        operation=operation,
        json={"n": 1},
        headers={"Authorization": SECRET, "X-Trace": "t-1"},
    )
    assert outcome.status == 200 and outcome.idempotency_key is not None
    first, second = server.seen
    assert (second.method, second.url.path) == ("POST", "/v2/orders")
    assert second.content == first.content == b'{"n":1}'
    assert second.headers.multi_items() == first.headers.multi_items()
    assert second.headers["idempotency-key"] == outcome.idempotency_key


def test_a_streamed_body_is_buffered_and_sent_again_after_a_307(mode: str) -> None:
    server = Server({"/upload": (307, "/v2/upload")})
    outcome = send(mode, server, "POST", "/upload", content=streamed(mode, b"ab", b"cd"))
    assert outcome.status == 200
    assert [(r.method, r.url.path, r.content) for r in server.seen] == [
        ("POST", "/upload", b"abcd"),
        ("POST", "/v2/upload", b"abcd"),
    ]
    # Sent again as bytes, the body has one framing header (RFC 9112 §6.2: never both).
    hop = server.seen[1].headers
    assert (hop.get("content-length"), hop.get("transfer-encoding")) == ("4", None)


def chain(length: int) -> Server:
    """/hop/0 → /hop/1 → … → /hop/<length>, which answers 200."""
    return Server({f"/hop/{n}": (307, f"/hop/{n + 1}") for n in range(length)})


def test_ten_redirects_in_a_row_are_followed(mode: str) -> None:
    server = chain(10)
    outcome = send(mode, server, "GET", "/hop/0")
    assert outcome.status == 200 and len(server.seen) == 11
    assert len(outcome.attempts) == 1


def test_the_eleventh_redirect_is_returned_as_it_is(mode: str) -> None:
    server = chain(11)
    outcome = send(mode, server, "GET", "/hop/0", policy=Policy(retry=RetryPolicy(attempts=3)))
    # The first request and ten followed hops; the eleventh 3xx is the answer.
    assert [r.url.path for r in server.seen] == [f"/hop/{n}" for n in range(11)]
    assert outcome.status == 307 and outcome.response is not None
    assert outcome.response.headers["location"] == "/hop/11"
    assert outcome.stop_reason == "answered" and len(outcome.attempts) == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://other.test/orders",  # another host
        "http://api.test:8080/orders",  # another port
        "https://api.test/orders",  # another scheme
        "//other.test/orders",  # another host, scheme-relative
    ],
)
def test_a_redirect_to_another_origin_is_returned_not_followed(mode: str, location: str) -> None:
    server = Server({"/start": (302, "/moved"), "/moved": (302, location)})
    outcome = send(mode, server, "GET", "/start", headers={"Authorization": SECRET})
    assert outcome.status == 302 and outcome.response is not None
    assert outcome.response.headers["location"] == location
    assert [str(r.url) for r in server.seen] == ["http://api.test/start", "http://api.test/moved"]
    assert all(r.headers["authorization"] == SECRET for r in server.seen)


def test_a_redirect_naming_the_default_port_is_the_same_origin(mode: str) -> None:
    server = Server({"/start": (302, "http://api.test:80/moved")})
    assert send(mode, server, "GET", "/start").status == 200
    assert [r.url.path for r in server.seen] == ["/start", "/moved"]


@pytest.mark.parametrize(
    "never_sent", [httpx.PoolTimeout("no free connection"), httpx.ProxyError("proxy refused")]
)
def test_a_post_is_retried_after_an_error_that_means_it_was_never_sent(
    mode: str, never_sent: httpx.TransportError
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) == 1:
            raise never_sent
        return httpx.Response(201)

    policy = Policy(retry=RetryPolicy(attempts=3))
    outcome = send(mode, handler, "POST", "/orders", policy=policy, content=b"{}")
    assert outcome.status == 201 and seen == ["POST", "POST"]
    first, second = outcome.attempts
    assert first.error is not None and first.retry_delay is not None
    assert (second.status, second.error) == (201, None)


def test_a_post_is_not_retried_after_a_read_timeout(mode: str) -> None:
    """The contrast to the test above: a timeout after sending may have been applied."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.ReadTimeout("slow")

    with pytest.raises(RequestTimeout, match="attempt timed out"):
        send(mode, handler, "POST", "/orders", policy=Policy(retry=RetryPolicy(attempts=3)))
    assert seen == ["POST"]
