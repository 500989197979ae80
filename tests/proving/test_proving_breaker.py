"""The circuit breaker through an outage window, watched from both ends.

The payments service runs behind a :class:`ChaosProxy`; a generated client
calls it. During the outage the breaker opens (hook event) and calls fail
fast without touching the network (the proxy's ``received`` stays flat);
once the outage ends the half-open probe goes through and traffic recovers.
The test decides when the outage ends, and the breaker's open time passes
on a fake clock (no waiting); the network in between is real.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from seawall.chaos import FaultSet
from seawall.chaos.proxy import ChaosProxy
from seawall.examples.apps import ServiceName
from seawall.examples.testing import running_service
from seawall_runtime import (
    ApiError,
    BreakerPolicy,
    CircuitOpen,
    FakeClock,
    Hooks,
    ResponseValidationError,
    RetryPolicy,
    TimeoutPolicy,
)

pytestmark = pytest.mark.anyio
OPEN_FOR = 15.0  # passes on the fake clock
BREAKER = BreakerPolicy(failure_ratio=0.5, minimum_calls=4, window=30, open_for=OPEN_FOR)
ONE_ATTEMPT = {"retry": RetryPolicy(attempts=1), "timeout": TimeoutPolicy(connect=1, attempt=2)}


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[ChaosProxy]:
    with running_service("payments", tmp_path / "payments.db") as url:
        with ChaosProxy(url, FaultSet(seed=1)) as chaos:
            yield chaos


def _states(client: Any) -> list[str]:
    """The states of the client's breakers (it has one: per host)."""
    return [breaker.state for breaker in client.runtime.circuit_breakers.values()]


async def test_breaker_opens_fails_fast_and_recovers_after_an_outage(
    proxy: ChaosProxy, example_clients: dict[ServiceName, ModuleType]
) -> None:
    changes: list[str] = []
    hooks = Hooks(on_breaker_change=lambda event: changes.append(f"{event.old}->{event.new}"))
    clock = FakeClock()
    async with example_clients["payments"].AsyncClient(proxy.url, breaker=BREAKER, hooks=hooks, clock=clock) as client:
        assert (await client.list_charges(**ONE_ATTEMPT)).charges == []

        proxy.outage_now(600)  # ended by the test, not by time
        failures = 0
        while not changes:
            await expect_503(client.list_charges(**ONE_ATTEMPT))
            failures += 1
            assert failures <= BREAKER.minimum_calls, "the breaker never opened"
        assert changes == ["closed->open"]

        received = proxy.stats().received
        for _ in range(5):
            with pytest.raises(CircuitOpen) as caught:
                await client.list_charges(**ONE_ATTEMPT)
            assert "listCharges" in str(caught.value)
        assert proxy.stats().received == received, "calls went out while the breaker was open"

        proxy.clear_outages()
        assert _states(client) == ["open"]
        clock.advance(OPEN_FOR)
        assert _states(client) == ["half-open"]
        assert (await client.list_charges(**ONE_ATTEMPT)).charges == []  # the probe
        assert proxy.stats().received == received + 1
        assert changes == ["closed->open", "open->half-open", "half-open->closed"]

        for _ in range(3):
            await client.list_charges(**ONE_ATTEMPT)
        assert proxy.stats().received == received + 4


async def test_a_probe_during_the_outage_opens_the_breaker_again(
    proxy: ChaosProxy, example_clients: dict[ServiceName, ModuleType]
) -> None:
    changes: list[str] = []
    hooks = Hooks(on_breaker_change=lambda event: changes.append(f"{event.old}->{event.new}"))
    clock = FakeClock()
    async with example_clients["payments"].AsyncClient(proxy.url, breaker=BREAKER, hooks=hooks, clock=clock) as client:
        proxy.outage_now(600)
        while not changes:
            await expect_503(client.list_charges(**ONE_ATTEMPT))
        assert _states(client) == ["open"]
        clock.advance(OPEN_FOR)
        assert _states(client) == ["half-open"]
        received = proxy.stats().received
        await expect_503(client.list_charges(**ONE_ATTEMPT))  # the probe meets the outage
        assert proxy.stats().received == received + 1
        assert changes == ["closed->open", "open->half-open", "half-open->open"]
        with pytest.raises(CircuitOpen):
            await client.list_charges(**ONE_ATTEMPT)
        assert proxy.stats().received == received + 1


async def expect_503(call: Any) -> None:
    """The call fails with the outage's 503.

    The generated client raises ``ServiceUnavailableError`` for a 503 whose body
    matches the spec's ``Error``; the chaos proxy's injected body does not (it
    has no ``code``/``message``), which the client reports as a
    ``ResponseValidationError`` with the status kept. Either is the 503.
    """
    with pytest.raises((ApiError, ResponseValidationError)) as caught:
        await call
    assert caught.value.status == 503
