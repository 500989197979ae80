"""Order sagas through *generated* clients, the orchestrator SIGKILLed mid-way, then recovery.

This file is also the worker: run as a script it places orders as the demo
does (``seawall.examples.demo.place_order``: typed methods with ``saga=``,
ten sagas at a time, a SQLite saga log) against the example services, and
SIGKILLs itself just before it would log the answer to its n-th creating step
(``createOrder``, ``createReservation``, ``createCharge``): the service has
applied the step and stored its answer under the step's idempotency key, but
the log only says "started". Recovery must ask that step again with its logged
key (the service replays), undo or finish every saga, and leave the services'
databases consistent. Seed 1 recovers with ``seawall sagas recover`` and
``seawall.examples.generated:invokers``; the others with ``SagaRunner.recover``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_ORDERS = 60
STOCK = 15  # low enough that some reservations are refused
CREATING = frozenset({"createOrder", "createReservation", "createCharge"})
ANSWERED = frozenset({"succeeded", "failed", "unknown"})
DATABASES = {
    "orders_client": "orders.db",
    "inventory_client": "inventory.db",
    "payments_client": "payments.db",
}


# --- the worker (run as a script) ---------------------------------------------------------


def _worker(log_path: Path, clients_dir: Path, seed: int, kill_at: int) -> int:
    from contextlib import AsyncExitStack

    import anyio

    from seawall.examples.demo import open_clients, place_order, plan_orders, run_orders
    from seawall.examples.generated import URL_VARIABLES, import_clients
    from seawall_runtime.saga import SagaRecord, SqliteSagaLog, StepRecord

    class KillingLog(SqliteSagaLog):
        """SIGKILLs the process instead of logging the ``kill_at``-th answer to a creating step."""

        answers = 0

        def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
            if step is not None and step.operation in CREATING and step.state in ANSWERED:
                self.answers += 1
                if self.answers >= kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            super().write(saga, step)

    packages = import_clients(clients_dir)
    urls = {service: os.environ[variable] for service, variable in URL_VARIABLES.items()}

    async def orders() -> None:
        async with AsyncExitStack() as stack:
            clients = await open_clients(stack, packages, urls, saga_log=KillingLog(log_path))
            await run_orders(lambda plan: place_order(clients, plan), plan_orders(MAX_ORDERS, seed))

    anyio.run(orders)
    return 3  # never killed: kill_at was beyond the run


if __name__ == "__main__":
    log_arg, clients_arg, seed_arg, kill_arg = sys.argv[1:5]
    raise SystemExit(_worker(Path(log_arg), Path(clients_arg), int(seed_arg), int(kill_arg)))


# --- the test -----------------------------------------------------------------------------

from seawall.examples.generated import (  # noqa: E402 - the worker needs none of this
    CLIENTS_DIR_VARIABLE,
    URL_VARIABLES,
    generate_clients,
    invokers,
)
from seawall.examples.invariants import check_invariants  # noqa: E402
from seawall.examples.testing import running_services  # noqa: E402
from seawall_runtime.saga import SagaRunner, SqliteSagaLog, StepRecord, StepResult  # noqa: E402


@pytest.fixture(scope="module")
def clients_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("clients")
    generate_clients(directory)
    return directory


class ReplayWatch:
    """A generated client as recovery's invoker, noting the keys whose answers were replays."""

    def __init__(self, client: Any, replayed: set[str]) -> None:
        self.client = client
        self.service: str = client.service
        self.replayed = replayed

    def operation(self, name: str) -> Any:
        return self.client.operation(name)

    def invoke(
        self, operation: str, arguments: Any, *, idempotency_key: str, policy: Any = None
    ) -> StepResult:
        result: StepResult = self.client.invoke(
            operation, arguments, idempotency_key=idempotency_key, policy=policy
        )
        if (result.header("Idempotent-Replayed") or "").lower() == "true":
            self.replayed.add(idempotency_key)
        return result


def _stored_keys(directory: Path, steps: list[StepRecord]) -> set[str]:
    """The keys of ``steps`` the services hold a stored answer for."""
    stored = set()
    for step in steps:
        with sqlite3.connect(directory / DATABASES[step.service]) as db:
            row = db.execute(
                "SELECT 1 FROM idempotency_keys WHERE key = ?", (step.idempotency_key,)
            ).fetchone()
        if row is not None:
            stored.add(step.idempotency_key)
    return stored


def _recover_with_cli(log_path: Path, env: Mapping[str, str]) -> set[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall",
            "sagas",
            "recover",
            "--log",
            str(log_path),
            "--invokers",
            "seawall.examples.generated:invokers",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(row["outcome"] in ("Completed", "Compensated") for row in rows), rows
    return {row["saga_id"] for row in rows}


def _recover_with_api(log: SqliteSagaLog, env: Mapping[str, str], replayed: set[str]) -> set[str]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        clients = invokers()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
    try:
        watched = {service: ReplayWatch(client, replayed) for service, client in clients.items()}
        outcomes = SagaRunner(log).recover(watched)
    finally:
        for client in clients.values():
            client.close()
    return {outcome.saga_id for outcome in outcomes}


@pytest.mark.parametrize(("seed", "tool"), [(1, "cli"), (2, "api"), (3, "api")])
def test_killed_orchestrator_then_recovery_ends_every_saga(
    tmp_path: Path, clients_dir: Path, seed: int, tool: str
) -> None:
    log_path = tmp_path / "sagas.db"
    kill_at = random.Random(seed).randint(3, 60)
    with running_services(tmp_path, stock=STOCK) as urls:
        env = {
            CLIENTS_DIR_VARIABLE: str(clients_dir),
            **{URL_VARIABLES[service]: url for service, url in urls.items()},
        }
        worker_env = {
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join(
                [str(REPO / "runtime"), os.environ.get("PYTHONPATH", "")]
            ),
        }
        worker = subprocess.run(
            [sys.executable, __file__, str(log_path), str(clients_dir), str(seed), str(kill_at)],
            capture_output=True,
            text=True,
            env=worker_env,
            timeout=60,
        )
        assert worker.returncode == -signal.SIGKILL, worker.stderr

        log = SqliteSagaLog(log_path, create=False)
        unfinished = {saga.saga_id for saga in log.sagas({"running", "compensating"})}
        in_flight = [
            step
            for saga_id in unfinished
            for step in log.load(saga_id)[1]
            if step.state == "started" and step.operation in CREATING
        ]
        # The step the worker died answering: applied, its answer stored under its key.
        stored = _stored_keys(tmp_path, in_flight)
        assert stored, in_flight
        replayed: set[str] = set()
        if tool == "cli":
            recovered = _recover_with_cli(log_path, worker_env)
        else:
            recovered = _recover_with_api(log, env, replayed)
            assert stored <= replayed, (stored, replayed)  # asked again with the logged keys

    assert recovered == unfinished
    assert log.sagas({"running", "compensating", "needs_attention"}) == []
    # The logged keys were kept, not replaced by new ones.
    after = {(s.saga_id, s.index): s for saga_id in unfinished for s in log.load(saga_id)[1]}
    assert all(after[s.saga_id, s.index].idempotency_key == s.idempotency_key for s in in_flight)
    report = check_invariants(
        *(tmp_path / name for name in ("orders.db", "inventory.db", "payments.db"))
    )
    assert report.ok, str(report)
    with sqlite3.connect(tmp_path / "orders.db") as db:
        rows = db.execute("SELECT customer_id, status FROM orders").fetchall()
    statuses = dict(rows)
    assert len(statuses) == len(rows)  # one order per customer: no step applied twice
    for saga in log.sagas():
        new_order = log.load(saga.saga_id)[1][0].arguments["body"]
        assert isinstance(new_order, Mapping)
        status = statuses.get(new_order["customerId"])
        if saga.state == "completed":
            assert status == "confirmed", (saga, status)
        else:
            assert status in (None, "cancelled"), (saga, status)
    log.close()
