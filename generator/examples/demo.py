"""``seawall demo``: the example order system under injected faults, end to end.

One command generates the three clients from ``specs/``, starts the services
as subprocesses each behind a :class:`~seawall.chaos.proxy.ChaosProxy` with a
seeded fault mix, runs a batch of concurrent orders through the generated
``AsyncClient``\\ s, shows progress, and ends with a short report: what the
clients did (from the runtime's hooks), what the servers saw (from the
proxies' counters) and whether the invariants hold (from the services'
databases). Exit status 0 when they hold, 1 when not, 2 for bad options,
130 on Ctrl-C; every process started is stopped in all cases.

The order saga is orchestrated here by hand (see docs/demo.md for why and how
it compensates); :func:`place_order` is also what the chaos tests drive.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from seawall.examples.apps import SERVICE_NAMES, ServiceName
from seawall.examples.inventory import CATALOGUE

if TYPE_CHECKING:  # the runtime is imported lazily: `seawall --help` stays light
    from seawall_runtime import BreakerPolicy, BudgetPolicy, Hooks, SeawallError

T = TypeVar("T")

DEFAULT_ORDERS = 40
DEFAULT_SEED = 7
CONCURRENCY = 10
# How often one step is asked again (same idempotency key) when its outcome is
# unknown, and how often an undo is tried before a person must look.
FORWARD_TRIES = 4
COMPENSATION_TRIES = 6
DECLINED_EVERY = 10  # every tenth order pays with a card that is declined
# Shorter than the specs' 15 s so the demo shows the breaker open *and* recover.
DEMO_OPEN_FOR = 1.0
PAYMENTS_OUTAGE = 1.5  # seconds of 503 on payments, a quarter into the run

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


# --- the order saga, by hand ------------------------------------------------------------


@dataclass(frozen=True)
class OrderPlan:
    """What one order buys and how it pays."""

    customer: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    card: str


@dataclass(frozen=True)
class StepFailure:
    """A step that did not succeed, and the client error that says why."""

    step: str  # "payments.createCharge"
    error: SeawallError

    def __str__(self) -> str:
        return f"{self.step}: {type(self.error).__name__}: {self.error}"


@dataclass
class OrderResult:
    """How one order ended; ``failures`` lists every step that failed, first cause first."""

    plan: OrderPlan
    outcome: Outcome = "rolled-back"
    order_id: str | None = None
    failures: list[StepFailure] = field(default_factory=list)


@dataclass(frozen=True)
class Clients:
    """The three generated async clients, their packages and their tallies."""

    clients: Mapping[ServiceName, Any]
    packages: Mapping[ServiceName, ModuleType]
    tallies: Mapping[ServiceName, Tally]
    options: Mapping[str, Any] = field(default_factory=dict)  # per-call overrides for every call


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


def _refused(error: BaseException) -> bool:
    """A 4xx answer says the step was not applied (408/425/429 and a key in flight excepted)."""
    from seawall_runtime import ApiError

    if not isinstance(error, ApiError) or not 400 <= error.status < 500:
        return False
    return error.status not in (408, 425, 429) and getattr(error.body, "code", "") != (
        "idempotency-key-in-flight"
    )


def _pause(error: BaseException, attempt: int) -> float:
    """How long to wait before asking again: until an open breaker lets probes through."""
    from seawall_runtime import CircuitOpen

    backoff = min(0.05 * 2.0**attempt, 1.0)
    if isinstance(error, CircuitOpen):
        # retry_in is 0 while a half-open probe is out: give the probe time to answer.
        return min(float(error.retry_in), 5.0) + max(backoff, 0.2)
    return backoff


async def _ask(
    clients: Clients, service: ServiceName, call: Callable[[], Awaitable[T]], *, tries: int
) -> T:
    """Call, and ask again (the call reuses its idempotency key) while the outcome is unknown."""
    import anyio
    from seawall_runtime import SeawallError

    for attempt in range(tries):
        clients.tallies[service].calls += 1
        try:
            return await call()
        except SeawallError as error:
            if _refused(error) or attempt == tries - 1:
                raise
            await anyio.sleep(_pause(error, attempt))
    raise AssertionError("unreachable: the last try returns or raises")


async def place_order(clients: Clients, plan: OrderPlan) -> OrderResult:
    """Run the order saga: create order → reserve stock → charge → confirm; undo on failure.

    Never raises a client error: a failure ends in ``rolled-back`` (everything
    undone) or ``needs-attention`` (an undo kept failing), with the causes in
    ``failures``.
    """
    from seawall_runtime import SeawallError

    result = OrderResult(plan)
    step = "orders.createOrder"
    try:
        order = await _create_order(clients, plan)
        result.order_id = str(order.id)
        step = "inventory.createReservation"
        await _reserve(clients, order.id, plan)
        step = "payments.createCharge"
        charge = await _charge(clients, order, plan)
        step = "orders.confirmOrder"
        await _confirm(clients, order.id, charge.id)
        result.outcome = "confirmed"
        return result
    except SeawallError as error:
        result.failures.append(StepFailure(step, error))
    if result.order_id is None:
        # The order may exist (its answer lost every time); nothing else was started.
        return result
    await _undo(clients, result)
    return result


async def _create(
    clients: Clients, service: ServiceName, method: str, model: str, data: object
) -> Any:
    """A creating POST with one idempotency key for all its tries, so it applies at most once."""
    body = getattr(clients.packages[service].models, model).model_validate(data)
    call = functools.partial(
        getattr(clients.clients[service], method),
        body,
        idempotency_key=str(uuid.uuid4()),
        **clients.options,
    )
    return await _ask(clients, service, call, tries=FORWARD_TRIES)


async def _create_order(clients: Clients, plan: OrderPlan) -> Any:
    prices = {item.sku: item.unit_price for item in CATALOGUE}
    lines = [
        {"sku": sku, "quantity": n, "unitPrice": {"amount": prices[sku], "currency": "EUR"}}
        for sku, n in plan.lines
    ]
    data = {"customerId": plan.customer, "lines": lines}
    return await _create(clients, "orders", "create_order", "NewOrder", data)


async def _reserve(clients: Clients, order_id: uuid.UUID, plan: OrderPlan) -> Any:
    data = {"orderId": str(order_id), "lines": [{"sku": s, "quantity": n} for s, n in plan.lines]}
    return await _create(clients, "inventory", "create_reservation", "NewReservation", data)


async def _charge(clients: Clients, order: Any, plan: OrderPlan) -> Any:
    data = {
        "orderId": str(order.id),
        "amount": order.total.model_dump(mode="json", by_alias=True),
        "paymentMethod": {"type": "card", "token": plan.card},
    }
    return await _create(clients, "payments", "create_charge", "NewCharge", data)


async def _confirm(clients: Clients, order_id: uuid.UUID, charge_id: uuid.UUID) -> Any:
    body = clients.packages["orders"].models.Confirmation.model_validate(
        {"chargeId": str(charge_id)}
    )
    call = functools.partial(
        clients.clients["orders"].confirm_order, order_id, body, **clients.options
    )
    return await _ask(clients, "orders", call, tries=FORWARD_TRIES)


async def _undo(clients: Clients, result: OrderResult) -> None:
    """Undo whatever of the order happened, whatever the forward steps' verdicts were.

    The order is cancelled first: a cancelled order can no longer be confirmed,
    so nothing that arrives late can complete it. Then every charge of the
    order is refunded and every active reservation released, found by listing
    them: that also covers steps whose answers were lost.
    """
    from seawall_runtime import SeawallError

    assert result.order_id is not None
    order_id = uuid.UUID(result.order_id)
    orders, inventory, payments = (clients.clients[name] for name in SERVICE_NAMES)
    models = {name: clients.packages[name].models for name in SERVICE_NAMES}
    undo = functools.partial(_ask, clients, tries=COMPENSATION_TRIES)
    options = clients.options
    step = "orders.cancelOrder"
    try:
        cancellation = models["orders"].Cancellation.model_validate({"reason": "saga-rollback"})
        await undo(
            "orders", functools.partial(orders.cancel_order, order_id, cancellation, **options)
        )
        step = "payments.listCharges"
        charges = await undo(
            "payments", functools.partial(payments.list_charges, order_id=order_id, **options)
        )
        refund = models["payments"].RefundRequest.model_validate({"reason": "saga-rollback"})
        step = "payments.refundCharge"
        for charge in charges.charges:
            if charge.status.value == "succeeded":
                await undo(
                    "payments",
                    functools.partial(payments.refund_charge, charge.id, refund, **options),
                )
        step = "inventory.listReservations"
        reservations = await undo(
            "inventory",
            functools.partial(inventory.list_reservations, order_id=order_id, **options),
        )
        step = "inventory.releaseReservation"
        for reservation in reservations.reservations:
            if reservation.status.value == "active":
                await undo(
                    "inventory",
                    functools.partial(inventory.release_reservation, reservation.id, **options),
                )
    except SeawallError as error:
        result.failures.append(StepFailure(step, error))
        result.outcome = "needs-attention"


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
) -> Clients:
    """An ``AsyncClient`` per service (closed by ``stack``), each counting into its own tally.

    ``breaker`` (for every client) and ``budgets`` (per service), when given,
    replace the specs'; ``options`` are per-call overrides for every call.
    """
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
    return Clients(clients, packages, tallies, dict(options or {}))


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
) -> tuple[list[OrderResult], Mapping[ServiceName, Tally]]:
    from seawall_runtime import BreakerPolicy

    breaker = BreakerPolicy(failure_ratio=0.5, minimum_calls=12, window=10, open_for=DEMO_OPEN_FOR)
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, packages, urls, breaker=breaker)
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
        results, tallies = anyio.run(_drive, packages, urls, plans, proxies["payments"])
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
                print(f"kept: {workdir} (clients/, run/*.db, run/*.log)")
    except KeyboardInterrupt:
        print("\nseawall demo: interrupted; every process it started was stopped", file=sys.stderr)
        return 130
    return 0 if run.invariants.ok else 1
