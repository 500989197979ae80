"""The response size limit: a declared Content-Length past it stops the read
early; a body that arrives in one read is judged by its size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from seawall_runtime import (
    AsyncResilientClient,
    FakeClock,
    Policy,
    RequestTimeout,
    ResilientClient,
    ResponseTooLarge,
    TimeoutPolicy,
)

CHUNK = b"x" * 1024


class CountedBody:
    """A streamed body of ``chunks`` chunks that counts how many were served."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.served = 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.served += 1
            yield CHUNK


def client_for(answer: httpx.Response, limit: int) -> ResilientClient:
    return ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda request: answer),
        policy=Policy(retry=None),
        max_response_bytes=limit,
    )


def test_a_declared_length_past_the_limit_stops_the_read_at_the_second_chunk() -> None:
    body = CountedBody(10_000)
    declared = str(len(CHUNK) * body.chunks)
    answer = httpx.Response(200, headers={"Content-Length": declared}, content=body)
    with client_for(answer, limit=100_000) as client:
        with pytest.raises(ResponseTooLarge, match=f"{declared}\\+ bytes exceeds the limit"):
            client.request("GET", "/big")
    assert body.served == 2


def test_an_undeclared_body_is_cut_when_it_passes_the_limit() -> None:
    body = CountedBody(10_000)
    with client_for(httpx.Response(200, content=body), limit=4096) as client:
        with pytest.raises(ResponseTooLarge, match="5120\\+ bytes exceeds the limit of 4096"):
            client.request("GET", "/big")
    assert body.served == 5


def test_a_body_in_one_read_is_judged_by_its_size() -> None:
    with client_for(httpx.Response(200, content=b"y" * 5000), limit=1000) as client:
        with pytest.raises(ResponseTooLarge, match="5000\\+ bytes exceeds the limit of 1000"):
            client.request("GET", "/big")


def test_a_body_within_the_limit_is_read_whole() -> None:
    body = CountedBody(8)
    answer = httpx.Response(200, headers={"Content-Length": str(8 * len(CHUNK))}, content=body)
    with client_for(answer, limit=8 * len(CHUNK)) as client:
        outcome = client.request("GET", "/ok")
    assert outcome.response is not None and outcome.response.content == CHUNK * 8
    assert body.served == 8


def test_a_body_httpx_read_when_making_the_response_is_not_read_again() -> None:
    """In-memory responses come already read: the runtime hands the same bytes
    on (sync and async) and still holds them to the limit."""

    async def answer_async(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"z" * 900)

    async def call_async(limit: int) -> bytes:
        async with AsyncResilientClient(
            "http://api.test",
            transport=httpx.MockTransport(answer_async),
            policy=Policy(retry=None),
            max_response_bytes=limit,
        ) as client:
            outcome = await client.request("GET", "/small")
        assert outcome.response is not None
        return outcome.response.content

    with client_for(httpx.Response(200, content=b"z" * 900), limit=900) as client:
        outcome = client.request("GET", "/small")
    assert outcome.response is not None and outcome.response.content == b"z" * 900
    assert asyncio.run(call_async(900)) == b"z" * 900
    with pytest.raises(ResponseTooLarge, match="900\\+ bytes exceeds the limit of 899"):
        asyncio.run(call_async(899))


class ClosableBody(httpx.SyncByteStream):
    """A streamed body that records whether it was closed (its connection freed)."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield CHUNK
        yield CHUNK

    def close(self) -> None:
        self.closed = True


def test_a_stream_a_hook_consumed_fails_and_is_closed() -> None:
    """httpx marks a stream consumed as soon as anything reads it raw: that is
    no stored body, so the runtime takes the stream path, which fails (the
    body is gone) and closes the response."""
    body = ClosableBody()

    def peek(response: httpx.Response) -> None:
        for _ in response.iter_raw():
            break

    http = httpx.Client(
        base_url="http://api.test",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=body)),
        event_hooks={"response": [peek]},
    )
    with ResilientClient(http=http, policy=Policy(retry=None)) as client:
        with pytest.raises(httpx.StreamConsumed):
            client.request("GET", "/peeked")
    assert body.closed


def test_a_body_httpx_read_in_memory_after_the_attempt_timeout_is_a_timeout() -> None:
    clock = FakeClock()

    def late(request: httpx.Request) -> httpx.Response:
        clock.advance(3.0)
        return httpx.Response(200, content=b"late")

    with ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(late),
        clock=clock,
        policy=Policy(timeout=TimeoutPolicy(attempt=1.0), retry=None),
    ) as client:
        with pytest.raises(RequestTimeout, match="attempt timed out while reading the body"):
            client.request("GET", "/late")
