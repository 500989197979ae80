"""The chaos proxy against a real upstream on loopback, seen by a real httpx client."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from seawall.chaos import ErrorFault, FaultSet, Outage, Planner, RoutePattern, Rule
from seawall.chaos.proxy import ChaosProxy

from chaos_upstream import Upstream

DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


@pytest.fixture
def proxy(upstream: tuple[Upstream, str]) -> Iterator[ChaosProxy]:
    with ChaosProxy(upstream[1]) as running:
        yield running


def client(timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(timeout=timeout, trust_env=False)


def test_forwards_method_path_query_headers_and_body(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    with client() as http:
        response = http.post(
            proxy.url + "/orders/a%2Fb?x=1&y=2",
            content=b'{"n": 1}',
            headers={"x-request": "r1", "connection": "keep-alive, x-hop", "x-hop": "no"},
        )
    assert response.status_code == 201
    assert response.headers["x-up"] == "1"
    echo = response.json()
    assert (echo["method"], echo["path"], echo["query"]) == ("POST", "/orders/a/b", "x=1&y=2")
    assert echo["body"] == '{"n": 1}'
    assert echo["headers"]["x-request"] == "r1"
    assert "x-hop" not in echo["headers"]  # named by Connection: hop-by-hop
    assert echo["headers"]["host"] == upstream[1].removeprefix("http://")
    stats = proxy.stats()
    assert (stats.received, stats.forwarded, stats.answered) == (1, 1, 1)
    assert stats.faults == {"forward": 1}
    assert stats.requests == {"POST /orders/a/b": 1}


def test_error_with_retry_after_never_reaches_upstream(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    proxy.set_faults(FaultSet((Rule(errors=(ErrorFault(503, 1.0),), retry_after=2),)))
    with client() as http:
        responses = [http.get(proxy.url + "/pets") for _ in range(3)]
    assert [r.status_code for r in responses] == [503] * 3
    assert responses[0].headers["retry-after"] == "2"
    assert responses[0].headers["x-seawall-chaos"] == "error"
    assert upstream[0].count("GET /pets") == 0
    stats = proxy.stats()
    assert (stats.received, stats.forwarded, stats.faults) == (3, 0, {"error": 3})


def test_latency_is_added_before_forwarding(proxy: ChaosProxy) -> None:
    proxy.set_faults(FaultSet((Rule(latency=0.05, latency_jitter=0.01),)))
    with client() as http:
        started = time.monotonic()
        response = http.get(proxy.url + "/slow")
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.045  # a lower bound only: sleeping never ends early by more
    assert proxy.stats().faults == {"forward": 1, "delay": 1}


def test_reset_drops_the_connection_without_a_response(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    proxy.set_faults(FaultSet((Rule(reset=1.0),)))
    with client() as http, pytest.raises(DROPPED):
        http.get(proxy.url + "/pets")
    assert upstream[0].count("GET /pets") == 0
    assert proxy.stats().faults == {"reset": 1}


def test_hang_outlasts_the_client_timeout(proxy: ChaosProxy, upstream: tuple[Upstream, str]) -> None:
    proxy.set_faults(FaultSet((Rule(hang=1.0),), hang_limit=20))
    with client(timeout=0.3) as http, pytest.raises(httpx.ReadTimeout):
        http.get(proxy.url + "/pets")
    assert upstream[0].count("GET /pets") == 0
    assert proxy.stats().faults == {"hang": 1}


def test_lost_response_is_applied_upstream_but_never_answered(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    proxy.set_faults(FaultSet((Rule(match=(RoutePattern.parse("POST /orders"),), lost=1.0),)))
    with client() as http:
        with pytest.raises(DROPPED):
            http.post(proxy.url + "/orders", json={"item": 1}, headers={"idempotency-key": "k1"})
        assert http.get(proxy.url + "/orders").status_code == 200  # not matched: passes
    assert upstream[0].count("POST /orders") == 1
    stats = proxy.stats()
    assert (stats.received, stats.forwarded, stats.answered) == (2, 2, 2)
    assert stats.faults == {"lost": 1, "forward": 1}


def test_refuse_closes_the_listening_socket_until_the_outage_is_cleared(proxy: ChaosProxy) -> None:
    proxy.outage_now(60, "refuse")
    with client() as http, pytest.raises(httpx.ConnectError):
        http.get(proxy.url + "/pets")
    if hasattr(socket, "SO_REUSEPORT"):  # the port stays reserved for the proxy meanwhile
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", proxy.port))
    proxy.clear_outages()
    with client() as http:
        assert http.get(proxy.url + "/pets").status_code == 200
    assert proxy.stats().received == 1  # refused connections never reach the proxy


def test_refuse_window_follows_the_clock(upstream: tuple[Upstream, str]) -> None:
    now = [0.0]
    faults = FaultSet((Rule(outages=(Outage(10, 20, "refuse"),)),))
    with ChaosProxy(upstream[1], faults, clock=lambda: now[0]) as proxy, client() as http:
        assert http.get(proxy.url + "/a").status_code == 200
        now[0] = 10.0
        proxy.refresh()
        with client() as fresh, pytest.raises(httpx.ConnectError):
            fresh.get(proxy.url + "/a")
        # A connection opened before the window is reset when it sends a request.
        with pytest.raises(DROPPED):
            http.get(proxy.url + "/a")
        now[0] = 20.0
        proxy.refresh()
        with client() as fresh:
            assert fresh.get(proxy.url + "/a").status_code == 200
    assert proxy.stats().faults == {"forward": 2, "refuse": 1}


def test_the_listener_reopens_by_itself_when_a_refuse_window_ends(proxy: ChaosProxy) -> None:
    proxy.outage_now(0.2, "refuse")
    with client() as http, pytest.raises(httpx.ConnectError):
        http.get(proxy.url + "/a")
    for _ in range(100):  # bounded: at most ~5 s for the governor to reopen
        try:
            with client() as http:
                assert http.get(proxy.url + "/a").status_code == 200
            break
        except httpx.ConnectError:
            time.sleep(0.05)
    else:
        pytest.fail("the listener did not reopen after the refuse window")


def test_outage_now_fails_everything_then_traffic_recovers(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    with client() as http:
        proxy.outage_now(60, 503)
        assert [http.get(proxy.url + "/a").status_code for _ in range(4)] == [503] * 4
        proxy.clear_outages()
        assert http.get(proxy.url + "/a").status_code == 200
    assert upstream[0].count("GET /a") == 1
    stats = proxy.stats()
    assert (stats.received, stats.forwarded, stats.faults) == (5, 1, {"error": 4, "forward": 1})


def test_unreachable_upstream_is_a_502(unused_url: str) -> None:
    with ChaosProxy(unused_url) as proxy, client() as http:
        response = http.get(proxy.url + "/a")
    assert response.status_code == 502
    assert response.json() == {"error": "upstream unreachable", "reason": "ConnectError"}
    stats = proxy.stats()
    assert (stats.forwarded, stats.answered, stats.upstream_errors) == (1, 0, 1)


def outcomes(proxy: ChaosProxy, n: int) -> list[str]:
    """What a client saw for n requests (a reset connection is replaced by a new one)."""
    seen = []
    with client() as http:
        for _ in range(n):
            try:
                seen.append(str(http.get(proxy.url + "/x").status_code))
            except DROPPED:
                seen.append("dropped")
    return seen


def test_same_seed_same_fault_sequence_and_exact_counts(upstream: tuple[Upstream, str]) -> None:
    rule = Rule(errors=(ErrorFault(503, 0.3), ErrorFault(429, 0.1)), reset=0.2)
    faults = FaultSet((rule,), seed=42)
    expected_plans = Planner(faults).plan
    expected = []
    for _ in range(30):
        plan = expected_plans("GET", "/x")
        expected.append("dropped" if plan.action == "reset" else str(plan.status or 200))
    with ChaosProxy(upstream[1], faults) as first:
        seen_first = outcomes(first, 30)
        stats = first.stats()
    with ChaosProxy(upstream[1], faults) as second:
        seen_second = outcomes(second, 30)
    assert seen_first == seen_second == expected
    assert len(set(expected)) == 4  # the sequence mixes every outcome
    assert stats.received == 30
    assert stats.faults == {
        "error": expected.count("503") + expected.count("429"),
        "reset": expected.count("dropped"),
        "forward": expected.count("200"),
    }
    assert stats.forwarded == stats.answered == expected.count("200")
    assert upstream[0].count("GET /x") == 2 * expected.count("200")


def test_a_hang_ends_in_a_reset_after_the_hang_limit(proxy: ChaosProxy) -> None:
    proxy.set_faults(FaultSet((Rule(hang=1.0),), hang_limit=0.2))
    with client(timeout=10) as http, pytest.raises(DROPPED):
        http.get(proxy.url + "/pets")
    assert proxy.stats().faults == {"hang": 1}


def test_streams_a_chunked_request_body_and_a_large_response(
    proxy: ChaosProxy, upstream: tuple[Upstream, str]
) -> None:
    chunks = [bytes([65 + i % 26]) * 100_000 for i in range(20)]  # 2 MB in 20 chunks
    with client() as http:
        response = http.post(proxy.url + "/upload", content=iter(chunks))
        assert response.status_code == 201
        assert response.json()["body"] == b"".join(chunks).decode()
        assert response.json()["headers"]["transfer-encoding"] == "chunked"
        assert http.head(proxy.url + "/upload").status_code == 200  # the connection is reusable
    assert upstream[0].count("POST /upload") == 1
    assert proxy.stats().answered == 2
