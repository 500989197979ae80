"""``seawall demo``: the example order system under injected faults, end to end.

One command generates the three clients from ``specs/``, starts the services
as subprocesses each behind a :class:`~seawall.chaos.proxy.ChaosProxy` with a
seeded fault mix, runs a batch of concurrent orders through the generated
``AsyncClient``\\ s, shows progress, and ends with a short report: what the
clients did (from the runtime's hooks), what the servers saw (from the
proxies' counters) and whether the invariants hold (from the services'
databases). Exit status 0 when they hold, 1 when not, 2 for bad options,
130 on Ctrl-C; every process started is stopped in all cases.

Each order is a saga run by the saga runtime through the generated clients'
typed methods (``saga=``), logged in ``sagas.db`` in the work directory; a
failed step is undone by the compensations the specs declare. :func:`place_order`
is also what the chaos tests drive.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from seawall.examples.apps import SERVICE_NAMES, ServiceName
from seawall.examples.inventory import CATALOGUE

if TYPE_CHECKING:  # the runtime is imported lazily: `seawall --help` stays light
    from seawall_runtime import BreakerPolicy, BudgetPolicy, Hooks
    from seawall_runtime.saga import SagaLog

DEFAULT_ORDERS = 40
DEFAULT_SEED = 7
CONCURRENCY = 10
# How often the saga asks the pivot again (same idempotency key) while its
# outcome is unknown, and tries an undo before a person must look.
SAGA_TRIES = 12
# How often a step refused by an open circuit (so never sent) is started anew.
CIRCUIT_WAITS = 4
DECLINED_EVERY = 10  # every tenth order pays with a card that is declined
# Shorter than the specs' 15 s so the demo shows the breaker open *and* recover.
DEMO_OPEN_FOR = 1.0
PAYMENTS_OUTAGE = 1.5  # seconds of 503 on payments, a quarter into the run

T = TypeVar("T")
SAGA_LOG = "sagas.db"  # in the work dir: `seawall sagas list --log DIR/sagas.db`

Outcome = Literal["confirmed", "rolled-back", "needs-attention"]


# --- what the clients did ---------------------------------------------------------------


@dataclass
class Tally:
    """Counts for one client, fed by the runtime's hooks and by :func:`place_order`."""

    calls: int = 0  # logical calls made (each method invocation)
    attempts: int = 0  # HTTP attempts started
    retries: int = 0
    budget_refusals: int = 0
    breaker_openings: int = 0
    breaker_closings: int = 0
    fallbacks: int = 0
    breaker_log: list[str] = field(default_factory=list)  # "closed->open", in order

    def hooks(self) -> Hooks:
        """Runtime hooks that count into this tally."""
        from seawall_runtime import Hooks

        def breaker_changed(event: Any) -> None:
            self.breaker_log.append(f"{event.old}->{event.new}")
            self.breaker_openings += event.new == "open"
            self.breaker_closings += event.new == "closed"

        return Hooks(
            on_attempt_start=lambda _event: self._add("attempts"),
            on_retry=lambda _event: self._add("retries"),
            on_budget_exhausted=lambda _event: self._add("budget_refusals"),
            on_breaker_change=breaker_changed,
            on_fallback=lambda _event: self._add("fallbacks"),
        )

    def _add(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)


def total(tallies: Mapping[ServiceName, Tally], name: str) -> int:
    """One counter summed over the clients."""
    return sum(int(getattr(tally, name)) for tally in tallies.values())


# --- the order saga, through the saga runtime ---------------------------------------------


@dataclass(frozen=True)
class OrderPlan:
    """What one order buys and how it pays."""

    customer: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    card: str


@dataclass(frozen=True)
class StepFailure:
    """A step that did not succeed, and the error that says why."""

    step: str  # "payments.createCharge"
    error: Exception  # the client's SeawallError when the step had one

    def __str__(self) -> str:
        return f"{self.step}: {type(self.error).__name__}: {self.error}"


@dataclass
class OrderResult:
    """How one order's saga ended; ``failures`` holds the step failure that ended it."""

    plan: OrderPlan
    outcome: Outcome = "rolled-back"
    order_id: str | None = None
    failures: list[StepFailure] = field(default_factory=list)
    saga_id: str | None = None
    attention: str | None = None  # why a person must look, for "needs-attention"


@dataclass(frozen=True)
class Clients:
    """The three generated async clients, their packages, tallies and the saga runner."""

    clients: Mapping[ServiceName, Any]
    packages: Mapping[ServiceName, ModuleType]
    tallies: Mapping[ServiceName, Tally]
    options: Mapping[str, Any] = field(default_factory=dict)  # per-call overrides for every call
    runner: Any = None  # seawall_runtime.saga.AsyncSagaRunner


def saga_options() -> Any:
    """Retries that outlast an open breaker (≤ 1 s here) and the payments outage."""
    from seawall_runtime.saga import RetrySchedule, SagaOptions

    schedule = RetrySchedule(attempts=SAGA_TRIES, initial=0.05, max_delay=1.0)
    return SagaOptions(compensation_retry=schedule, forward_retry=schedule)


def plan_orders(count: int, seed: int, *, declined_every: int = DECLINED_EVERY) -> list[OrderPlan]:
    """``count`` seeded orders of one or two catalogue items; every n-th card is declined."""
    rng = random.Random(seed)
    plans = []
    for index in range(count):
        items = rng.sample(CATALOGUE, rng.randint(1, 2))
        lines = tuple((item.sku, rng.randint(1, 3)) for item in items)
        declined = declined_every > 0 and index % declined_every == declined_every - 1
        plans.append(
            OrderPlan(f"customer-{index:03d}", lines, "tok_declined" if declined else "tok_visa")
        )
    return plans


class _CountingInvoker:
    """A client as the saga's invoker, counting each call (forward or compensation) in its tally."""

    def __init__(self, client: Any, tally: Tally) -> None:
        self.client = client
        self.tally = tally
        self.service: str = client.service

    def operation(self, name: str) -> Any:
        return self.client.operation(name)

    async def invoke(self, operation: str, arguments: Any, **options: Any) -> Any:
        self.tally.calls += 1
        return await self.client.invoke(operation, arguments, **options)


async def _past_open_circuits(call: Callable[[], Awaitable[T]]) -> T:
    """Run a step; when an open circuit refused it (never sent), wait for the breaker and ask anew.

    The refused attempt stays in the saga log as a failed step; nothing is undone for it.
    """
    import anyio
    from seawall_runtime import CircuitOpen
    from seawall_runtime.saga import StepFailed

    for wait in range(CIRCUIT_WAITS):
        try:
            return await call()
        except StepFailed as failed:
            circuit = failed.__cause__
            if failed.unknown or not isinstance(circuit, CircuitOpen) or wait == CIRCUIT_WAITS - 1:
                raise
            # retry_in is 0 while a half-open probe is out: give the probe time to answer.
            await anyio.sleep(min(float(circuit.retry_in), 5.0) + 0.2)
    raise AssertionError("unreachable: the last try returns or raises")


async def place_order(clients: Clients, plan: OrderPlan) -> OrderResult:
    """Run the order saga: create order → reserve stock → charge → confirm (the pivot).

    The saga runtime logs every step and, when one fails, undoes the earlier
    ones with the compensations the specs declare (``x-compensation``). Never
    raises a step failure: the saga ends ``confirmed``, ``rolled-back`` or
    ``needs-attention``, with the cause in ``failures``.
    """
    from seawall_runtime.codegen import SagaStep
    from seawall_runtime.saga import AsyncSaga, Completed, NeedsAttention

    result = OrderResult(plan)
    orders, inventory, payments = (clients.clients[name] for name in SERVICE_NAMES)
    models = {name: clients.packages[name].models for name in SERVICE_NAMES}
    prices = {item.sku: item.unit_price for item in CATALOGUE}
    options = clients.options

    async def steps(saga: AsyncSaga) -> None:
        result.saga_id = saga.saga_id
        for name in SERVICE_NAMES:  # the saga calls (and compensates) through counting invokers
            invoker = _CountingInvoker(clients.clients[name], clients.tallies[name])
            saga.invokers[invoker.service] = invoker
        lines = [
            {"sku": sku, "quantity": n, "unitPrice": {"amount": prices[sku], "currency": "EUR"}}
            for sku, n in plan.lines
        ]
        new_order = {"customerId": plan.customer, "lines": lines}
        order = await _past_open_circuits(
            lambda: orders.create_order(
                models["orders"].NewOrder.model_validate(new_order), saga=saga, **options
            )
        )
        result.order_id = str(order.id)
        reservation = {
            "orderId": str(order.id),
            "lines": [{"sku": s, "quantity": n} for s, n in plan.lines],
        }
        await _past_open_circuits(
            lambda: inventory.create_reservation(
                models["inventory"].NewReservation.model_validate(reservation),
                saga=saga,
                **options,
            )
        )
        charge = {
            "orderId": str(order.id),
            "amount": order.total.model_dump(mode="json", by_alias=True),
            "paymentMethod": {"type": "card", "token": plan.card},
        }
        paid = await _past_open_circuits(
            lambda: payments.create_charge(
                models["payments"].NewCharge.model_validate(charge), saga=saga, **options
            )
        )
        confirmation = models["orders"].Confirmation.model_validate({"chargeId": str(paid.id)})
        await orders.confirm_order(
            order.id, confirmation, saga=SagaStep(saga, final=True), **options
        )

    outcome = await clients.runner.run("place-order", steps)
    if isinstance(outcome, Completed):
        result.outcome = "confirmed"
        return result
    if outcome.error is not None:
        result.failures.append(_failure(outcome.error))
    if isinstance(outcome, NeedsAttention):
        result.outcome = "needs-attention"
        result.attention = f"{outcome.reason} ({outcome.last_error})"
    return result


def _failure(error: BaseException) -> StepFailure:
    """The failed step and its client error (a refusal's answer, as the ``ApiError`` it is)."""
    from seawall_runtime import ApiError
    from seawall_runtime.saga import StepFailed

    if not isinstance(error, StepFailed):
        return StepFailure(
            "orchestration", error if isinstance(error, Exception) else Exception(error)
        )
    step = f"{error.step.service.removesuffix('_client')}.{error.step.operation}"
    cause = error.__cause__
    if isinstance(cause, Exception):
        return StepFailure(step, cause)
    answer = error.result
    status = answer.status if answer is not None else 0
    refused = ApiError(f"{error.step.operation}: answered HTTP {status}", status=status)
    return StepFailure(step, refused)


async def run_orders(
    place: Callable[[OrderPlan], Awaitable[OrderResult]],
    plans: list[OrderPlan],
    *,
    concurrency: int = CONCURRENCY,
    on_done: Callable[[list[OrderResult]], None] | None = None,
) -> list[OrderResult]:
    """``place`` every planned order, ``concurrency`` at a time; ``on_done`` after each one."""
    import anyio

    results: list[OrderResult] = []
    limit = anyio.Semaphore(concurrency)

    async def one(plan: OrderPlan) -> None:
        async with limit:
            results.append(await place(plan))
        if on_done is not None:
            on_done(results)

    async with anyio.create_task_group() as group:
        for plan in plans:
            group.start_soon(one, plan)
    return results


async def open_clients(
    stack: AsyncExitStack,
    packages: Mapping[ServiceName, ModuleType],
    urls: Mapping[ServiceName, str],
    *,
    breaker: BreakerPolicy | None = None,
    budgets: Mapping[ServiceName, BudgetPolicy] | None = None,
    options: Mapping[str, Any] | None = None,
    saga_log: SagaLog | None = None,
) -> Clients:
    """An ``AsyncClient`` per service (closed by ``stack``), each counting into its own tally.

    ``breaker`` (for every client) and ``budgets`` (per service), when given,
    replace the specs'; ``options`` are per-call overrides for every call.
    The order sagas are logged in ``saga_log`` (in memory when not given).
    """
    from seawall_runtime.saga import AsyncSagaRunner, InMemorySagaLog

    runner = AsyncSagaRunner(saga_log or InMemorySagaLog(), options=saga_options())
    tallies = {name: Tally() for name in packages}
    clients: dict[ServiceName, Any] = {}
    for name, package in packages.items():
        extra: dict[str, Any] = {}
        if breaker is not None:
            extra["breaker"] = breaker
        if budgets is not None and name in budgets:
            extra["budget"] = budgets[name]
        client = package.AsyncClient(urls[name], hooks=tallies[name].hooks(), **extra)
        clients[name] = await stack.enter_async_context(client)
    return Clients(clients, packages, tallies, dict(options or {}), runner)


# --- the demo ---------------------------------------------------------------------------


def demo_faults(seed: int) -> dict[ServiceName, Any]:
    """A moderate seeded fault mix per service (payments' outage is started during the run)."""
    from seawall.chaos import ErrorFault, FaultSet, RoutePattern, Rule

    def mix(error_rate: float) -> Any:
        return Rule(
            errors=(ErrorFault(503, error_rate),),
            retry_after=1,
            latency=0.005,
            latency_jitter=0.02,
            reset=0.02,
            lost=0.03,
        )

    # Reading the catalogue fails more often, so its fallback (an empty list) shows.
    catalogue = Rule(match=(RoutePattern.parse("GET /items"),), errors=(ErrorFault(503, 0.25),))
    return {
        "orders": FaultSet((mix(0.04),), seed=seed),
        "inventory": FaultSet((catalogue, mix(0.04)), seed=seed + 1),
        "payments": FaultSet((mix(0.04),), seed=seed + 2),
    }


class Progress:
    """One self-overwriting line on a terminal; a line per quarter otherwise."""

    def __init__(self, total_orders: int, tallies: Mapping[ServiceName, Tally]) -> None:
        self.total_orders = total_orders
        self.tallies = tallies
        self.live = sys.stderr.isatty()
        self._quarters_shown = 0

    def __call__(self, results: list[OrderResult]) -> None:
        done = len(results)
        confirmed = sum(r.outcome == "confirmed" for r in results)
        breakers = total(self.tallies, "breaker_openings")
        line = (
            f"orders {done}/{self.total_orders}: {confirmed} confirmed, {done - confirmed} rolled back"
            f" | requests {total(self.tallies, 'attempts')}, retries {total(self.tallies, 'retries')},"
            f" breaker openings {breakers}"
        )
        if self.live:
            sys.stderr.write(f"\r\x1b[K{line}")
            sys.stderr.flush()
        elif done * 4 >= (self._quarters_shown + 1) * self.total_orders:
            self._quarters_shown = done * 4 // self.total_orders
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def _catalogue_browser(clients: Clients) -> Callable[[], Awaitable[None]]:
    """Each order first reads the catalogue, which falls back to an empty list when down.

    A shop page does not wait: one attempt, then the spec's fallback.
    """
    from seawall_runtime import RetryPolicy

    inventory = clients.clients["inventory"]
    options = {**clients.options, "retry": RetryPolicy(attempts=1)}

    async def browse() -> None:
        from seawall_runtime import SeawallError

        clients.tallies["inventory"].calls += 1
        try:
            await inventory.list_items(**options)
        except SeawallError:
            pass  # a shop page would say "catalogue unavailable"; the order goes on

    return browse


@dataclass(frozen=True)
class DemoRun:
    """Everything the report is made of."""

    results: list[OrderResult]
    tallies: Mapping[ServiceName, Tally]
    server_requests: Mapping[ServiceName, int]
    injected: Mapping[str, int]
    invariants: Any  # seawall.examples.invariants.InvariantReport
    seconds: float


async def _drive(
    packages: Mapping[ServiceName, ModuleType],
    urls: Mapping[ServiceName, str],
    plans: list[OrderPlan],
    payments_proxy: Any,
    saga_log: SagaLog,
) -> tuple[list[OrderResult], Mapping[ServiceName, Tally]]:
    from seawall_runtime import BreakerPolicy

    breaker = BreakerPolicy(failure_ratio=0.5, minimum_calls=12, window=10, open_for=DEMO_OPEN_FOR)
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, packages, urls, breaker=breaker, saga_log=saga_log)
        progress = Progress(len(plans), clients.tallies)
        browse = _catalogue_browser(clients)
        outage_after = max(1, len(plans) // 4)

        def on_done(results: list[OrderResult]) -> None:
            if len(results) == outage_after:
                payments_proxy.outage_now(PAYMENTS_OUTAGE)
            progress(results)

        async def browse_then_order(plan: OrderPlan) -> OrderResult:
            await browse()
            return await place_order(clients, plan)

        try:
            results = await run_orders(browse_then_order, plans, on_done=on_done)
        finally:
            progress.finish()
        return results, clients.tallies


def run_demo(workdir: Path, orders: int, seed: int) -> DemoRun:
    """Generate, start, drive and check; every process and proxy is stopped on return."""
    import anyio

    from seawall.chaos.proxy import ChaosProxy
    from seawall.examples.generated import generate_clients
    from seawall.examples.invariants import check_invariants
    from seawall.examples.processes import start_services
    from seawall_runtime.saga import SqliteSagaLog

    print(
        f"seawall demo: generating clients from specs/ into {workdir / 'clients'}", file=sys.stderr
    )
    packages = generate_clients(workdir / "clients")
    run_dir = workdir / "run"
    started = time.monotonic()
    with ExitStack() as stack:
        services = stack.enter_context(start_services(run_dir))
        faults = demo_faults(seed)
        proxies = {
            name: stack.enter_context(ChaosProxy(services[name].url, faults[name]))
            for name in SERVICE_NAMES
        }
        print(
            "seawall demo: services up behind fault injection: "
            + ", ".join(f"{name} {proxy.url}" for name, proxy in proxies.items()),
            file=sys.stderr,
        )
        plans = plan_orders(orders, seed)
        urls = {name: proxy.url for name, proxy in proxies.items()}
        saga_log = stack.enter_context(closing(SqliteSagaLog(workdir / SAGA_LOG)))
        results, tallies = anyio.run(_drive, packages, urls, plans, proxies["payments"], saga_log)
        stats = {name: proxy.stats() for name, proxy in proxies.items()}
        invariants = check_invariants(*(services[name].db_path for name in SERVICE_NAMES))
    injected: dict[str, int] = {}
    for stat in stats.values():
        for action, count in stat.faults.items():
            if action not in ("forward", "delay"):
                injected[action] = injected.get(action, 0) + count
    return DemoRun(
        results,
        tallies,
        {name: stat.received for name, stat in stats.items()},
        injected,
        invariants,
        time.monotonic() - started,
    )


def _mark(ok: bool) -> str:
    return "ok" if ok else "BROKEN"


def format_report(run: DemoRun) -> str:
    """The short report printed at the end."""
    results, tallies, kinds = run.results, run.tallies, run.invariants.kinds()
    outcomes = {
        o: sum(r.outcome == o for r in results)
        for o in ("confirmed", "rolled-back", "needs-attention")
    }
    declined = sum(r.outcome == "rolled-back" and r.plan.card == "tok_declined" for r in results)
    calls = total(tallies, "calls")
    received = sum(run.server_requests.values())
    per_call = received / calls if calls else 0.0
    injected = ", ".join(f"{action} {n}" for action, n in sorted(run.injected.items())) or "none"
    pending = run.invariants.orders_by_status.get("pending", 0)

    def broken(*names: str) -> int:
        return sum(kinds[name] for name in names)

    lines = [
        f"seawall demo: {len(results)} orders in {run.seconds:.1f} s",
        f"orders:      {outcomes['confirmed']} confirmed, {outcomes['rolled-back']} rolled back"
        f" ({declined} card declined), {outcomes['needs-attention']} need attention",
        f"sagas:       {outcomes['confirmed']} completed, {outcomes['rolled-back']} compensated"
        f" (undone by the specs' x-compensation), {outcomes['needs-attention']} need attention",
        f"client:      requests {total(tallies, 'attempts')}, retries {total(tallies, 'retries')},"
        f" budget refusals {total(tallies, 'budget_refusals')},"
        f" breaker openings {total(tallies, 'breaker_openings')},"
        f" fallbacks served {total(tallies, 'fallbacks')}",
        "breakers:    "
        + (
            "; ".join(
                f"{name} " + " ".join(tally.breaker_log)
                for name, tally in tallies.items()
                if tally.breaker_log
            )
            or "stayed closed"
        ),
        f"server:      {received} requests for {calls} calls ({per_call:.2f} per call);"
        f" injected: {injected}",
        "invariants (the services' databases):",
        f"  charges per order at most one:  {_mark(not broken('charged-twice', 'refunded-twice'))}",
        f"  no charge without an order:     {_mark(not broken('charge-without-order'))}",
        f"  stock levels consistent:        {_mark(not broken('stock-mismatch', 'negative-stock', 'reservation-without-order'))}",
        f"  orders without payment:         {broken('confirmed-without-payment')}"
        f" ({pending} pending)",
        f"  rolled back cleanly:            {_mark(not broken('cancelled-but-charged', 'cancelled-but-reserved'))}",
    ]
    lines += [f"  {violation}" for violation in run.invariants.violations[:10]]
    causes = [
        f"  order {r.plan.customer}: {r.failures[0]}"
        for r in results
        if r.failures and r.plan.card != "tok_declined"
    ]
    if causes:
        lines.append("failures caused by faults (first cause):")
        lines += causes[:8] + ([f"  … and {len(causes) - 8} more"] if len(causes) > 8 else [])
    stuck = [f"  saga {r.saga_id}: {r.attention}" for r in results if r.attention]
    if stuck:
        lines.append("sagas needing attention (`seawall sagas list --state needs_attention`):")
        lines += stuck[:8]
    lines.append("result: " + ("all invariants hold" if run.invariants.ok else "INVARIANTS BROKEN"))
    return "\n".join(lines)


@contextmanager
def _workdir(keep: str | None) -> Iterator[Path]:
    if keep is not None:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    path = Path(tempfile.mkdtemp(prefix="seawall-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seawall demo",
        description="Run concurrent orders through generated clients against the example "
        "services behind fault injection, then check the invariants.",
    )
    parser.add_argument(
        "--orders", type=int, default=DEFAULT_ORDERS, help="orders to place (default %(default)s)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed for faults and orders (default %(default)s)",
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="work in DIR and keep it (clients, databases, logs)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when the invariants hold, 1 when not, 2 bad options, 130 on Ctrl-C."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 10_000:
        parser.error(f"--orders must be between 1 and 10000, got {args.orders}")
    try:
        with _workdir(args.keep) as workdir:
            run = run_demo(workdir, args.orders, args.seed)
            print(format_report(run))
            if args.keep is not None:
                print(f"kept: {workdir} (clients/, {SAGA_LOG}, run/*.db, run/*.log)")
    except KeyboardInterrupt:
        print("\nseawall demo: interrupted; every process it started was stopped", file=sys.stderr)
        return 130
    return 0 if run.invariants.ok else 1
