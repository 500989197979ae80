"""Driver behaviour over an in-process transport: idempotency invariants
(property-based), logging redaction, configuration errors."""

from __future__ import annotations

import logging
import random
import uuid

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime_script import Script, Step
from seawall_runtime import (
    Backoff,
    FakeClock,
    Operation,
    Policy,
    ResilientClient,
    RetryPolicy,
    SeawallError,
    redact_headers,
)
from seawall_runtime.operation import new_idempotency_key

NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout)
failures = st.lists(
    st.sampled_from(
        [
            503,
            429,
            500,
            408,
            200,
            201,
            404,
            "connect",
            "connect-timeout",
            "read-timeout",
            "reset",
            "protocol",
        ]
    ),
    min_size=1,
    max_size=12,
)


def as_step(kind: int | str) -> Step:
    errors: dict[str, Exception] = {
        "connect": httpx.ConnectError("refused"),
        "connect-timeout": httpx.ConnectTimeout("slow connect"),
        "read-timeout": httpx.ReadTimeout("slow"),
        "reset": httpx.ReadError("reset by peer"),
        "protocol": httpx.RemoteProtocolError("peer closed"),
    }
    return kind if isinstance(kind, int) else errors[kind]


def run(steps: list[Step], operation: Operation, attempts: int) -> tuple[Script, object]:
    clock = FakeClock()
    script = Script(steps, clock)
    client = ResilientClient(
        "http://api.test",
        transport=script.transport,
        policy=Policy(retry=RetryPolicy(attempts=attempts, backoff=Backoff(initial=0.01))),
        breaker=None,
        budget=None,
        clock=clock,
        random=random.Random(0),
    )
    try:
        result: object = client.request(operation.method, "/r", operation=operation, content=b"{}")
    except SeawallError as error:
        result = error
    return script, result


@settings(max_examples=150, deadline=None)  # no timing limit on a loaded machine
@given(failures, st.integers(1, 10), st.sampled_from(["POST", "PATCH", "PUT", "GET"]))
def test_idempotency_key_is_constant_across_attempts(
    kinds: list[int | str], attempts: int, method: str
) -> None:
    op = Operation("op", method, "/r", idempotency_key_header="Idempotency-Key")
    script, result = run([as_step(k) for k in kinds], op, attempts)
    keys = {request.headers["Idempotency-Key"] for request in script.requests}
    assert len(keys) == 1
    assert keys == {result.idempotency_key}  # type: ignore[attr-defined]


def test_generated_keys_are_distinct_random_uuid4_strings() -> None:
    keys = [new_idempotency_key() for _ in range(2000)]
    assert len(set(keys)) == len(keys)
    for key in keys:
        parsed = uuid.UUID(key)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == key  # the canonical lower-case 8-4-4-4-12 form
    # Bits counted from the most significant: 48-51 hold the version, 64-65 the
    # variant. Each of the other 122 takes both values across the sample (all
    # 2000 keys agreeing on a random bit has probability 2**-1999).
    fixed = {48, 49, 50, 51, 64, 65}
    values = [uuid.UUID(key).int for key in keys]
    for bit in sorted(set(range(128)) - fixed):
        mask = 1 << (127 - bit)
        assert any(v & mask for v in values) and not all(v & mask for v in values), bit


def test_each_call_gets_its_own_key() -> None:
    script = Script([200])
    op = Operation("create", "POST", "/r", idempotency_key_header="Idempotency-Key")
    with ResilientClient("http://api.test", transport=script.transport) as client:
        outcomes = [client.request("POST", "/r", operation=op) for _ in range(3)]
    keys = [request.headers["Idempotency-Key"] for request in script.requests]
    assert keys == [outcome.idempotency_key for outcome in outcomes]
    assert len(set(keys)) == 3 and all(uuid.UUID(key).version == 4 for key in keys)


@settings(max_examples=150, deadline=None)  # no timing limit on a loaded machine
@given(failures, st.integers(1, 10), st.sampled_from(["POST", "PATCH"]))
def test_no_retry_of_a_non_idempotent_request_that_may_have_been_sent(
    kinds: list[int | str], attempts: int, method: str
) -> None:
    steps = [as_step(k) for k in kinds]
    script, _ = run(steps, Operation("op", method, "/r"), attempts)
    sent = len(script.requests)
    assert 1 <= sent <= attempts
    # Every attempt but the last must have failed before anything was sent.
    for index in range(sent - 1):
        step = steps[min(index, len(steps) - 1)]
        assert isinstance(step, NEVER_SENT), f"retried after {step!r}"


def test_streamed_request_body_is_resent_on_retry() -> None:
    clock = FakeClock()
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return httpx.Response(503 if len(bodies) == 1 else 200)

    client = ResilientClient(
        "http://api.test", transport=httpx.MockTransport(answer), clock=clock, breaker=None
    )
    outcome = client.request("PUT", "/r", content=iter([b"ab", b"cd"]))
    assert outcome.status == 200 and bodies == [b"abcd", b"abcd"]


def test_debug_log_masks_secrets_and_drops_the_query(caplog: pytest.LogCaptureFixture) -> None:
    client = ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda request: httpx.Response(200)),
        headers={
            "Authorization": "Bearer s3cret-token",
            "Cookie": "session=s3cret-cookie",
            "X-API-Key": "s3cret-key",
            "X-Tenant": "s3cret-custom",
            "Accept": "application/json",
        },
        sensitive_headers=["x-tenant"],
    )
    with caplog.at_level(logging.DEBUG, logger="seawall_runtime"):
        client.request("GET", "/r?api_key=s3cret-query")
    text = caplog.text
    assert "s3cret" not in text
    assert "[redacted]" in text and "application/json" in text and "/r" in text


def test_redact_headers_keeps_harmless_values() -> None:
    assert redact_headers({"Proxy-Authorization": "x", "Content-Type": "a/b"}) == [
        ("Proxy-Authorization", "[redacted]"),
        ("Content-Type", "a/b"),
    ]


def test_error_messages_carry_no_secrets() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(refuse),
        headers={"Authorization": "Bearer s3cret"},
        clock=FakeClock(),
    )
    with pytest.raises(SeawallError) as caught:
        client.request("GET", "/r?token=s3cret")
    assert "s3cret" not in str(caught.value)
    assert "api.test/r" in str(caught.value)


def test_settings_for_a_given_httpx_client_are_refused() -> None:
    with httpx.Client() as http, pytest.raises(ValueError, match="base_url, headers"):
        ResilientClient("http://x", http=http, headers={"a": "b"})
    with pytest.raises(ValueError, match="max_response_bytes"):
        ResilientClient(max_response_bytes=0)


def test_given_httpx_client_is_not_closed() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    with ResilientClient(http=http) as client:
        assert client.request("GET", "http://api.test/").status == 204
    assert not http.is_closed
    http.close()
