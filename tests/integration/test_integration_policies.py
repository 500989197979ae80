"""Issue "Policy extensions", end to end: a client generated from an annotated
spec calls a real upstream on loopback (directly, or through the fault-injecting
``ChaosProxy``), and the upstream records every request it receives.

Timings are kept small through the spec's own annotations and per-call
overrides, so each test runs in well under a second or two.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from random import Random
from types import ModuleType
from typing import Any

import pytest

from seawall.chaos import ErrorFault, FaultSet, RoutePattern, Rule
from seawall.chaos.proxy import ChaosProxy
from seawall.examples.generated import generate_package
from seawall.examples.server import read_body, serve_in_thread
from seawall_runtime import (
    Backoff,
    ConnectionReset,
    FakeClock,
    FallbackPolicy,
    RequestTimeout,
    RetryPolicy,
    SeawallError,
    TimeoutPolicy,
)

SPEC = """
openapi: 3.0.3
info: {title: Ledger, version: 1.0.0}
servers: [{url: http://127.0.0.1:9}]
x-retry:
  attempts: 3
  backoff: {initial: 0.01, multiplier: 2, max: 0.02, jitter: none}
  on: [connection-error, timeout, reset, 503]
x-timeout: {attempt: 2, total: 10}
x-circuit-breaker: {failure-ratio: 0.5, minimum-calls: 4, window: 60, open-for: 60, half-open-probes: 1}
x-retry-budget: {ratio: 1, floor: 100, window: 60}
paths:
  /entries:
    post:
      operationId: createEntry
      parameters:
        - {name: Idempotency-Key, in: header, required: false, schema: {type: string}}
      requestBody: {$ref: '#/components/requestBodies/NewEntry'}
      responses:
        '201': {$ref: '#/components/responses/Created'}
        '503': {description: Unavailable.}
      x-idempotent: {key: Idempotency-Key}
  /notes:
    post:
      operationId: addNote
      requestBody: {$ref: '#/components/requestBodies/NewEntry'}
      responses:
        '201': {$ref: '#/components/responses/Created'}
  /entries/{entryId}:
    get:
      operationId: getEntry
      parameters: [{$ref: '#/components/parameters/EntryId'}]
      responses:
        '200': {$ref: '#/components/responses/Entry'}
        '503': {description: Unavailable.}
      x-fallback:
        on: [circuit-open, exhausted, 503]
        operation: getCachedEntry
  /cache/entries/{entryId}:
    get:
      operationId: getCachedEntry
      parameters: [{$ref: '#/components/parameters/EntryId'}]
      responses:
        '200': {$ref: '#/components/responses/Entry'}
  /balance:
    get:
      operationId: getBalance
      responses:
        '200':
          description: The balance.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Balance'}
        '503': {description: Unavailable.}
      x-fallback:
        on: [circuit-open, exhausted, 503]
        value: {amount: 0, source: fallback}
components:
  requestBodies:
    NewEntry:
      required: true
      content:
        application/json:
          schema: {$ref: '#/components/schemas/NewEntry'}
  parameters:
    EntryId: {name: entryId, in: path, required: true, schema: {type: string}}
  responses:
    Entry:
      description: The entry.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Entry'}
    Created:
      description: Created.
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Entry'}
  schemas:
    NewEntry:
      type: object
      required: [amount]
      properties:
        amount: {type: integer}
    Entry:
      type: object
      required: [id, amount, source]
      properties:
        id: {type: string}
        amount: {type: integer}
        source: {type: string}
    Balance:
      type: object
      required: [amount, source]
      properties:
        amount: {type: integer}
        source: {type: string}
"""


@dataclass
class Ledger:
    """The upstream: answers every operation of SPEC and records each request.

    ``fail[(method, path)]`` is a list of statuses to answer first, one per
    request, before the real answers start.
    """

    received: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    fail: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, method: str, path: str) -> list[dict[str, str]]:
        """The headers of each request for ``method path``, in arrival order."""
        with self.lock:
            return [headers for m, p, headers in self.received if (m, p) == (method, path)]

    def _answer(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        planned = self.fail.get((method, path))
        if planned:
            return planned.pop(0), {"message": "planned failure"}
        if method == "POST" and path in ("/entries", "/notes"):
            amount = json.loads(body)["amount"]
            return 201, {"id": f"e-{len(self.received)}", "amount": amount, "source": "primary"}
        if path.startswith("/entries/"):
            return 200, {"id": path.rsplit("/", 1)[1], "amount": 7, "source": "primary"}
        if path.startswith("/cache/entries/"):
            return 200, {"id": path.rsplit("/", 1)[1], "amount": 7, "source": "cache"}
        if path == "/balance":
            return 200, {"amount": 42, "source": "primary"}
        return 404, {"message": "no such route"}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.received.append((scope["method"], scope["path"], headers))
            status, payload = self._answer(scope["method"], scope["path"], body)
        raw = json.dumps(payload).encode()
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": raw})


@pytest.fixture(scope="module")
def ledger_client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The package generated from SPEC."""
    folder = tmp_path_factory.mktemp("ledger")
    spec = folder / "ledger.yaml"
    spec.write_text(SPEC)
    return generate_package(spec, folder / "out", "ledger_client")


@pytest.fixture
def ledger() -> Iterator[tuple[Ledger, str]]:
    """A fresh upstream on loopback; yields it and its base URL."""
    app = Ledger()
    with serve_in_thread(app, name="ledger") as url:
        yield app, url


# --- idempotency keys -----------------------------------------------------------------


def test_key_header_is_not_a_method_argument(ledger_client: ModuleType) -> None:
    parameters = inspect.signature(ledger_client.Client.create_entry_detailed).parameters
    assert "idempotency_key_2" not in parameters
    assert "idempotency_key" not in parameters  # a per-call option, through **options


def test_callers_key_reaches_the_wire_and_comes_back(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    with ledger_client.Client(url) as client:
        answer = client.create_entry_detailed(ledger_client.models.NewEntry(amount=5), idempotency_key="key-1")
    assert answer.value.amount == 5
    assert answer.idempotency_key == "key-1"
    assert [h["idempotency-key"] for h in app.requests("POST", "/entries")] == ["key-1"]


def test_generated_key_is_sent_on_every_attempt(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    app.fail[("POST", "/entries")] = [503, 503]
    clock = FakeClock()  # the backoff between attempts passes on the fake clock
    with ledger_client.Client(url, clock=clock) as client:
        answer = client.create_entry_detailed(ledger_client.models.NewEntry(amount=5))
    keys = [h["idempotency-key"] for h in app.requests("POST", "/entries")]
    assert len(keys) == 3 and len(answer.attempts) == 3
    assert keys == [answer.idempotency_key] * 3
    assert answer.idempotency_key and len(answer.idempotency_key) == 36  # a UUID


def test_clock_and_random_reach_the_runtime(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    app.fail[("POST", "/entries")] = [503, 503]
    clock = FakeClock()
    with ledger_client.Client(url, clock=clock, random=Random(7)) as client:
        answer = client.create_entry_detailed(ledger_client.models.NewEntry(amount=1))
    assert answer.status == 201
    assert clock.sleeps == [0.01, 0.02]  # the spec's backoff, without jitter, slept on the fake clock


# --- fallbacks --------------------------------------------------------------------------


def test_a_literal_fallback_is_the_typed_success_model(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    app.fail[("GET", "/balance")] = [503, 503, 503]
    with ledger_client.Client(url) as client:
        answer = client.get_balance_detailed()
    assert answer.value == ledger_client.models.Balance(amount=0, source="fallback")
    assert answer.from_fallback and answer.status is None and len(answer.attempts) == 3


def test_an_operation_fallback_calls_that_operation(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    app.fail[("GET", "/entries/e-9")] = [503, 503, 503]
    with ledger_client.Client(url) as client:
        answer = client.get_entry_detailed("e-9")
    assert answer.value == ledger_client.models.Entry(id="e-9", amount=7, source="cache")
    assert answer.from_fallback and answer.status == 200 and len(answer.attempts) == 4
    assert (len(app.requests("GET", "/entries/e-9")), len(app.requests("GET", "/cache/entries/e-9"))) == (3, 1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_an_async_operation_fallback_awaits_that_operation(
    ledger_client: ModuleType, ledger: tuple[Ledger, str]
) -> None:
    app, url = ledger
    app.fail[("GET", "/entries/e-3")] = [503, 503, 503]
    async with ledger_client.AsyncClient(url) as client:
        entry = await client.get_entry("e-3")
    assert entry.source == "cache" and len(app.requests("GET", "/cache/entries/e-3")) == 1


# --- through the fault-injecting proxy --------------------------------------------------


def faults(route: str, **rule: Any) -> FaultSet:
    """Every request to ``route`` gets the fault (rates of 1: no randomness)."""
    return FaultSet((Rule(match=(RoutePattern.parse(route),), **rule),), seed=1, hang_limit=2)


def test_retries_exactly_as_annotated(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    with ChaosProxy(url, faults("POST /entries", errors=(ErrorFault(503, 1.0),))) as proxy:
        with ledger_client.Client(proxy.url) as client, pytest.raises(ledger_client.ServiceUnavailableError) as caught:
            client.create_entry(ledger_client.models.NewEntry(amount=1))
        assert proxy.stats().received == 3  # x-retry attempts: 3
    assert len(caught.value.attempts) == 3 and app.requests("POST", "/entries") == []


@pytest.mark.parametrize("fault", ["reset", "lost"])
def test_a_post_that_may_have_been_sent_is_not_repeated(
    ledger_client: ModuleType, ledger: tuple[Ledger, str], fault: str
) -> None:
    app, url = ledger
    with ChaosProxy(url, faults("POST /notes", **{fault: 1.0})) as proxy:
        with ledger_client.Client(proxy.url) as client, pytest.raises(ConnectionReset) as caught:
            client.add_note(ledger_client.models.NewEntry(amount=1))
        assert proxy.stats().received == 1
    assert caught.value.sent and len(caught.value.attempts) == 1
    assert len(app.requests("POST", "/notes")) == (1 if fault == "lost" else 0)  # a lost answer was applied


def test_the_idempotency_key_is_the_same_on_every_attempt(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    with ChaosProxy(url, faults("POST /entries", lost=1.0)) as proxy:
        with ledger_client.Client(proxy.url) as client, pytest.raises(SeawallError) as caught:
            client.create_entry(ledger_client.models.NewEntry(amount=1))
        assert proxy.stats().received == 3
    keys = [headers["idempotency-key"] for headers in app.requests("POST", "/entries")]
    assert len(keys) == 3 and set(keys) == {caught.value.idempotency_key}


def test_the_fallback_answers_when_the_circuit_opens(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    _, url = ledger
    with ChaosProxy(url, faults("GET /balance", errors=(ErrorFault(503, 1.0),))) as proxy:
        with ledger_client.Client(proxy.url) as client:
            for _ in range(2):  # 6 failed attempts: past minimum-calls 4, failure ratio 1
                assert client.get_balance_detailed().from_fallback
            sent = proxy.stats().received
            assert [b.state for b in client.runtime.circuit_breakers.values()] == ["open"]
            answer = client.get_balance_detailed()
        assert proxy.stats().received == sent  # failed fast: nothing reached the proxy
    assert answer.from_fallback and answer.value == ledger_client.models.Balance(amount=0, source="fallback")
    assert answer.attempts == ()


def test_per_call_retry_override(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    _, url = ledger
    retry = RetryPolicy(attempts=5, backoff=Backoff(initial=0.01, max=0.01), on=frozenset({503}))
    with ChaosProxy(url, faults("POST /entries", errors=(ErrorFault(503, 1.0),))) as proxy:
        # No breaker: five failures in a row would open the spec's (minimum-calls: 4).
        with ledger_client.Client(proxy.url, breaker=None) as client, pytest.raises(ledger_client.ServiceUnavailableError):
            client.create_entry(ledger_client.models.NewEntry(amount=1), retry=retry)
        assert proxy.stats().received == 5


def test_per_call_timeout_override(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    _, url = ledger
    with ChaosProxy(url, faults("POST /entries", latency=1.0)) as proxy:
        with ledger_client.Client(proxy.url) as client, pytest.raises(RequestTimeout):
            client.create_entry(
                ledger_client.models.NewEntry(amount=1),
                timeout=TimeoutPolicy(attempt=0.1, total=1),
                retry=RetryPolicy(attempts=1),
            )
        assert proxy.stats().received == 1


def test_per_call_fallback_override(ledger_client: ModuleType, ledger: tuple[Ledger, str]) -> None:
    app, url = ledger
    app.fail[("GET", "/entries/e-5")] = [503]
    fallback = FallbackPolicy(on=frozenset({503}), value={"id": "e-5", "amount": 0, "source": "caller"})
    with ledger_client.Client(url) as client:
        entry = client.get_entry("e-5", fallback=fallback, retry=RetryPolicy(attempts=1))
    assert entry == ledger_client.models.Entry(id="e-5", amount=0, source="caller")
    assert app.requests("GET", "/cache/entries/e-5") == []  # the spec's fallback operation was replaced
