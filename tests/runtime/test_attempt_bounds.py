"""What one attempt covers: redirect hops, slow bodies and broken encodings
stay inside the attempt's time and never repeat a request that was applied.

Sync and async drivers over an in-process transport on a fake clock: the
handlers move the clock as a slow server would, so no test sleeps.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from seawall_runtime import (
    AsyncResilientClient,
    AttemptEnded,
    BreakerPolicy,
    ConnectionReset,
    DeadlineExceeded,
    FakeClock,
    Hooks,
    Policy,
    PoolExhausted,
    RequestTimeout,
    ResilientClient,
    RetriesExhausted,
    RetryPolicy,
    SeawallError,
    TimeoutPolicy,
)

Handler = Callable[[httpx.Request], httpx.Response]
NO_WAIT = RetryPolicy(attempts=3)


class Driven:
    """One sync or async client over ``handler``, called the same way either way:
    each call runs to completion (the async one in its own event loop, which an
    in-process transport allows) and returns the Outcome or raises."""

    def __init__(self, mode: str, handler: Handler, **settings: Any) -> None:
        self.mode = mode
        if mode == "sync":
            self.client: Any = ResilientClient(
                "http://api.test", transport=httpx.MockTransport(handler), **settings
            )
            return

        async def handle(request: httpx.Request) -> httpx.Response:
            return handler(request)

        self.client = AsyncResilientClient(
            "http://api.test", transport=httpx.MockTransport(handle), **settings
        )

    def request(self, method: str, path: str = "/orders") -> Any:
        return self._run(self.client.request, method, path)

    def send(self, request: httpx.Request, policy: Policy | None) -> Any:
        return self._run(self.client.send, request, policy=policy)

    def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.mode == "sync":
            return method(*args, **kwargs)
        return anyio.run(functools.partial(method, *args, **kwargs))

    def __enter__(self) -> Driven:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.mode == "sync":
            self.client.close()
        else:
            anyio.run(self.client.aclose)


def call(
    mode: str,
    handler: Handler,
    method: str,
    clock: FakeClock,
    policy: Policy,
    **options: Any,
) -> Any:
    """One call on a fresh client without breaker or budget (unless ``options`` give one)."""
    settings = {"policy": policy, "clock": clock, "breaker": None, "budget": None, **options}
    with Driven(mode, handler, **settings) as driven:
        return driven.request(method)


def redirect_then_refuse(status: int, seen: list[str]) -> Handler:
    """Answers the first request with a same-origin redirect; the next hop cannot connect."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.url.path == "/orders":
            return httpx.Response(status, headers={"Location": "/orders/1"})
        raise httpx.ConnectError("refused", request=request)

    return handler


@pytest.mark.parametrize("status", [303, 307])
def test_a_post_answered_with_a_redirect_is_not_sent_again_when_the_next_hop_fails(
    mode: str, status: int
) -> None:
    seen: list[str] = []
    with pytest.raises(ConnectionReset, match="follow a redirect; the request was already"):
        call(mode, redirect_then_refuse(status, seen), "POST", FakeClock(), Policy(retry=NO_WAIT))
    assert seen.count("POST") == 1 + (status == 307)  # 307 repeats the method on the next hop
    assert len(seen) == 2


def test_a_get_whose_redirect_hop_fails_is_retried_as_a_reset(mode: str) -> None:
    seen: list[str] = []
    with pytest.raises(RetriesExhausted) as caught:
        call(mode, redirect_then_refuse(307, seen), "GET", FakeClock(), Policy(retry=NO_WAIT))
    assert seen == ["GET"] * 6
    assert isinstance(caught.value.last_error, ConnectionReset)


class SlowBody:
    """A body whose chunks each arrive ``gap`` seconds after the last, on ``clock``."""

    def __init__(self, clock: FakeClock, chunks: int, gap: float) -> None:
        self.clock, self.chunks, self.gap = clock, chunks, gap
        self.served = 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.clock.advance(self.gap)
            self.served += 1
            yield b"x" * 10

    def content(self, mode: str) -> Iterable[bytes] | AsyncIterable[bytes]:
        """The body as the sync or the async client reads it."""
        if mode == "sync":
            return self

        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self:
                yield chunk

        return chunks()


def test_the_attempt_timeout_counts_from_the_request_not_from_the_headers(mode: str) -> None:
    clock = FakeClock()
    body = SlowBody(clock, chunks=8, gap=0.25)

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(0.6)  # the headers come late
        return httpx.Response(200, content=body.content(mode))

    policy = Policy(timeout=TimeoutPolicy(attempt=1.0), retry=None)
    with pytest.raises(RequestTimeout, match="while reading the body"):
        call(mode, handler, "GET", clock, policy)
    # Headers at 0.6 s, chunks at 0.85 s and 1.1 s: the second is past 1.0 s. Timed
    # from the headers, the attempt would have read on to the sixth chunk.
    assert body.served == 2


def test_a_slow_body_under_a_total_deadline_is_a_deadline_error(mode: str) -> None:
    clock = FakeClock()
    body = SlowBody(clock, chunks=8, gap=0.25)

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(0.6)
        return httpx.Response(200, content=body.content(mode))

    policy = Policy(timeout=TimeoutPolicy(attempt=1.0, total=1.0), retry=NO_WAIT)
    with pytest.raises(DeadlineExceeded, match="total deadline of 1.0s exceeded during attempt 1"):
        call(mode, handler, "GET", clock, policy)
    assert body.served == 2


def test_redirect_hops_share_the_attempt_time(mode: str) -> None:
    clock = FakeClock()
    hop_timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hop_timeouts.append(dict(request.extensions["timeout"]))
        clock.advance(0.6)
        return httpx.Response(307, headers={"Location": f"/orders/{len(hop_timeouts)}"})

    policy = Policy(timeout=TimeoutPolicy(connect=2.0, attempt=1.0), retry=None)
    with pytest.raises(RequestTimeout, match="while following redirects"):
        call(mode, handler, "GET", clock, policy)
    assert len(hop_timeouts) == 2  # the third hop would start past the attempt's end
    assert hop_timeouts[0] == {"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0}
    assert list(hop_timeouts[1].values()) == pytest.approx([0.4] * 4)


def test_a_body_that_cannot_be_decoded_is_a_reset_retried_only_when_idempotent(
    mode: str,
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    with pytest.raises(ConnectionReset, match="response body could not be decoded"):
        call(mode, handler, "POST", FakeClock(), Policy(retry=NO_WAIT))
    assert seen == ["POST"]
    with pytest.raises(RetriesExhausted, match="all 3 attempts failed"):
        call(mode, handler, "GET", FakeClock(), Policy(retry=NO_WAIT))
    assert seen == ["POST", "GET", "GET", "GET"]


@pytest.mark.parametrize("fails", [False, True])
def test_a_request_sent_again_keeps_its_own_timeouts(mode: str, fails: bool) -> None:
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        if fails:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200)

    short = Policy(timeout=TimeoutPolicy(attempt=0.05), retry=None)
    with Driven(mode, handler, clock=FakeClock()) as driven:
        request = driven.client.build_request("GET", "/orders")
        own = dict(request.extensions["timeout"])
        for policy in (short, None):
            try:
                driven.send(request, policy)
            except SeawallError:
                assert fails
            assert request.extensions["timeout"] == own
    assert set(seen[0].values()) == {0.05}
    assert seen[-1] == own


class Interrupted(BaseException):
    """Stands for a cancellation or an interrupt that the runtime does not handle."""


def test_an_abandoned_attempt_still_ends_for_hooks(mode: str) -> None:
    ended: list[AttemptEnded] = []

    def handler(request: httpx.Request) -> httpx.Response:
        raise Interrupted()

    with pytest.raises(Interrupted):
        call(
            mode,
            handler,
            "GET",
            FakeClock(),
            Policy(retry=NO_WAIT),
            hooks=Hooks(on_attempt_end=ended.append),
        )
    assert [(event.attempt, event.status, event.error) for event in ended] == [
        (1, None, "Interrupted")
    ]


def test_an_exhausted_connection_pool_is_not_the_hosts_failure(mode: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.PoolTimeout("no free connection", request=request)

    # Counted as a failure, the first attempt would open this breaker and the
    # second would fail fast with CircuitOpen.
    breaker = BreakerPolicy(minimum_calls=1, failure_ratio=0.5)
    with pytest.raises(RetriesExhausted) as caught:
        call(mode, handler, "POST", FakeClock(), Policy(retry=NO_WAIT), breaker=breaker)
    assert isinstance(caught.value.last_error, PoolExhausted)  # never sent: the POST is retried
    assert "no pooled connection came free" in str(caught.value)
    assert seen == ["POST"] * 3


def test_a_full_pool_on_a_redirect_hop_is_not_retried_nor_held_against_the_host(
    mode: str,
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.url.path == "/orders":
            return httpx.Response(303, headers={"Location": "/orders/1"})
        raise httpx.PoolTimeout("no free connection", request=request)

    errors: list[Exception] = []
    with Driven(mode, handler, policy=Policy(retry=NO_WAIT), clock=FakeClock()) as driven:
        for _ in range(2):
            try:
                driven.request("POST")
            except Exception as error:  # noqa: BLE001 - collected and checked below
                errors.append(error)
        breakers = driven.client.circuit_breakers
    assert [type(error) for error in errors] == [ConnectionReset, ConnectionReset]
    assert "already answered" in str(errors[0])
    assert seen == ["POST", "GET"] * 2  # the POST, once per call: never sent again
    [breaker] = breakers.values()
    assert breaker.counts() == (0, 0)  # neither failure was held against the host
