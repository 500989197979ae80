"""Chaos over the example system: concurrent order sagas under each fault kind, then exact checks.

The three services run in-process (uvicorn threads), each behind a seeded
:class:`ChaosProxy`; orders go through the generated async clients via
:func:`seawall.examples.demo.place_order`. Afterwards the services'
databases must satisfy every invariant, every order must have ended the way
its client says, every failure must carry a runtime error as its cause, and
the load retries added must stay within the specs' retry budgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from seawall.chaos import ErrorFault, FaultSet, Rule
from seawall.chaos.proxy import ChaosProxy
from seawall.examples.apps import SERVICE_NAMES, ServiceName
from seawall.examples.demo import OrderResult, open_clients, place_order, plan_orders, run_orders
from seawall.examples.generated import spec_path
from seawall.examples.invariants import check_invariants
from seawall.examples.testing import running_services
from seawall_runtime import Backoff, BreakerPolicy, BudgetPolicy, RetryPolicy, SeawallError, TimeoutPolicy
from seawall_runtime.errors import BudgetExhausted, RetriesExhausted

pytestmark = pytest.mark.anyio
ORDERS = 25
STOCK = 15  # small enough that some orders run out and roll back
# Short timings so a run takes seconds; the attempt timeout stays far above the
# injected latency, so no request reaches a service after its client gave up.
CALL_OPTIONS = {
    "timeout": TimeoutPolicy(connect=1, attempt=0.5, total=5),
    "retry": RetryPolicy(attempts=4, backoff=Backoff(initial=0.01, max=0.05)),
}
# The specs' breaker, but open for half a second rather than 15.
BREAKER = BreakerPolicy(failure_ratio=0.5, minimum_calls=20, window=30, open_for=0.5)
FAULTS: dict[str, tuple[Rule, str]] = {  # kind → (rule, the proxy action that must occur)
    "error-503": (Rule(errors=(ErrorFault(503, 0.3),)), "error"),
    "reset": (Rule(reset=0.2), "reset"),
    "lost-response": (Rule(lost=0.2), "lost"),
    "latency": (Rule(latency=0.01, latency_jitter=0.05), "delay"),
    "hang": (Rule(hang=0.1), "hang"),
}


def spec_budget(service: ServiceName) -> BudgetPolicy:
    """The service spec's ``x-retry-budget``."""
    budget = yaml.safe_load(spec_path(service).read_text())["x-retry-budget"]
    return BudgetPolicy(ratio=budget["ratio"], floor=budget["floor"], window=budget["window"])


def requests_bound(calls: int, budget: BudgetPolicy, seconds: float) -> float:
    """Most server-side requests ``calls`` logical calls may cause under ``budget``.

    In any window at most ``floor + ratio × calls`` retries are granted; a run
    spanning k windows may use the floor k times.
    """
    windows = max(1, math.ceil(seconds / budget.window))
    return calls * (1 + budget.ratio) + windows * budget.floor


@pytest.fixture
def system(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, dict[ServiceName, ChaosProxy]]]:
    rule: Rule = request.param
    with ExitStack() as stack:
        urls = stack.enter_context(running_services(tmp_path, stock=STOCK))
        proxies = {
            name: stack.enter_context(
                ChaosProxy(urls[name], FaultSet((rule,), seed=11 + i, hang_limit=2))
            )
            for i, name in enumerate(SERVICE_NAMES)
        }
        yield tmp_path, proxies


def _check_failures(results: list[OrderResult]) -> None:
    """Every order that did not go through says why, with a runtime error naming the operation."""
    for result in results:
        if result.outcome != "confirmed":
            assert result.failures, f"{result.plan.customer} failed without a cause"
        for failure in result.failures:
            error = failure.error
            assert isinstance(error, SeawallError)
            operation = failure.step.split(".", 1)[1]
            assert operation in str(error), (failure.step, str(error))
            if isinstance(error, (RetriesExhausted, BudgetExhausted)):
                assert isinstance(error.last_error, SeawallError)


def _check_databases(tmp_path: Path, results: list[OrderResult]) -> None:
    report = check_invariants(*(tmp_path / f"{name}.db" for name in SERVICE_NAMES))
    assert report.ok, str(report)
    confirmed = sum(r.outcome == "confirmed" for r in results)
    assert report.orders_by_status.get("confirmed", 0) == confirmed, str(report)
    assert all(r.outcome != "needs-attention" for r in results), [
        str(f) for r in results for f in r.failures
    ]
    # Every confirmed order holds exactly one unrefunded charge; nothing else is charged.
    assert report.charges - report.refunds == confirmed, str(report)


@pytest.mark.parametrize(
    "system", [pytest.param(rule, id=kind) for kind, (rule, _) in FAULTS.items()], indirect=True
)
async def test_orders_under_faults_keep_every_invariant(
    system: tuple[Path, dict[ServiceName, ChaosProxy]],
    example_clients: dict[ServiceName, ModuleType],
    request: pytest.FixtureRequest,
) -> None:
    tmp_path, proxies = system
    kind = request.node.callspec.id
    budgets = {name: spec_budget(name) for name in SERVICE_NAMES}
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        clients = await open_clients(
            stack,
            example_clients,
            {name: proxy.url for name, proxy in proxies.items()},
            breaker=BREAKER,
            budgets=budgets,
            options=CALL_OPTIONS,
        )
        results = await run_orders(lambda plan: place_order(clients, plan), plan_orders(ORDERS, seed=3))
    seconds = time.monotonic() - started

    assert len(results) == ORDERS
    injected = sum(proxy.stats().faults.get(FAULTS[kind][1], 0) for proxy in proxies.values())
    assert injected > 0, f"no {kind} fault was injected"
    _check_failures(results)
    _check_databases(tmp_path, results)
    for name, proxy in proxies.items():
        calls, received = clients.tallies[name].calls, proxy.stats().received
        request.node.user_properties.append((f"{name} requests per call", received / calls))
        assert received <= requests_bound(calls, budgets[name], seconds), (name, received, calls)

