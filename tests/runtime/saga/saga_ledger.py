"""A tiny idempotent "service" over a real SQLite file, shared by test processes.

It plays orders, inventory and payments at once (one invoker per service
name): ``create`` makes a resource tagged with the saga it belongs to,
``cancel`` undoes it (404 when it does not exist). Requests with a known
idempotency key replay the stored answer (refusals included), as the real
services do. Faults are
injected per call by a callback; ``tick`` is called at each point where a
crash test may kill the process.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from kill_switch import run_until_killed

from seawall_runtime import ConnectError, RequestTimeout
from seawall_runtime.saga import Arguments, CompensationSpec, OperationRef, StepResult

Fault = Literal["refuse", "lose", "down"]
FaultPlan = Callable[[str, str], "Fault | None"]  # (service, operation) → fault
SERVICES = ("orders", "inventory", "payments")
UNDO_TEMPLATE = {"path": {"id": "$response.body#/id"}, "body": {"reason": "saga-rollback"}}

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT, saga TEXT, state TEXT);
CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, operation TEXT, status INTEGER, body TEXT);
"""


def no_faults(service: str, operation: str) -> Fault | None:
    return None


class Ledger:
    def __init__(self, path: Path, *, tick: Callable[[], None] = lambda: None) -> None:
        self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.executescript(SCHEMA)
        self.tick = tick

    def invokers(self, faults: FaultPlan = no_faults) -> dict[str, LedgerInvoker]:
        return {name: LedgerInvoker(self, name, faults) for name in SERVICES}

    def apply(
        self,
        service: str,
        operation: str,
        arguments: Mapping[str, Any],
        key: str,
        *,
        refuse: bool = False,
    ) -> StepResult:
        """Apply a request once per key; a refusal is stored and replayed like any answer."""
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            known = db.execute("SELECT status, body FROM requests WHERE key = ?", (key,)).fetchone()
            if known is not None:
                result = StepResult(known[0], json.loads(known[1]))
            elif refuse:
                result = StepResult(409, {"error": "refused"})
            elif operation == "create":
                saga = arguments["body"]["saga"]
                cursor = db.execute(
                    "INSERT INTO resources (service, saga, state) VALUES (?, ?, 'active')",
                    (service, saga),
                )
                result = StepResult(201, {"id": cursor.lastrowid})
            else:
                changed = db.execute(
                    "UPDATE resources SET state = 'cancelled' WHERE id = ? AND service = ?",
                    (arguments["path"]["id"], service),
                ).rowcount
                result = StepResult(200 if changed else 404, {"id": arguments["path"]["id"]})
            if known is None:
                db.execute(
                    "INSERT INTO requests VALUES (?, ?, ?, ?)",
                    (key, f"{service}.{operation}", result.status, json.dumps(result.body)),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return result

    def resources(self) -> list[tuple[str, str, str]]:
        """(service, saga, state) of every resource."""
        return self.connection.execute("SELECT service, saga, state FROM resources").fetchall()

    def creating_keys(self) -> list[str]:
        """The idempotency keys of the requests that created a resource."""
        rows = self.connection.execute(
            "SELECT key FROM requests WHERE operation LIKE '%.create' AND status = 201"
        )
        return [row[0] for row in rows]


class LedgerInvoker:
    """One service's face of the ledger: ``create`` (undone by ``cancel``) and ``cancel``."""

    def __init__(self, ledger: Ledger, service: str, faults: FaultPlan) -> None:
        self.ledger = ledger
        self.service = service
        self.faults = faults
        self.calls: list[tuple[str, str]] = []  # (operation, idempotency key)

    def operation(self, name: str) -> OperationRef:
        if name == "create":
            return OperationRef(
                "create", idempotent=True, compensation=CompensationSpec("cancel", UNDO_TEMPLATE)
            )
        if name == "cancel":
            return OperationRef("cancel", idempotent=True)
        raise KeyError(name)

    def invoke(
        self, operation: str, arguments: Arguments, *, idempotency_key: str, policy: Any = None
    ) -> StepResult:
        self.calls.append((operation, idempotency_key))
        fault = self.faults(self.service, operation)
        if fault == "down":
            raise ConnectError(f"{self.service} is down")
        self.ledger.tick()
        result = self.ledger.apply(
            self.service, operation, arguments, idempotency_key, refuse=fault == "refuse"
        )
        self.ledger.tick()
        if fault == "lose":
            raise RequestTimeout(f"{self.service}.{operation}: the answer was lost")
        return result


def run_ledger_worker(log: Path, ledger: Path, seed: int) -> None:
    """Run crash_worker.py on these files until it SIGKILLs itself at a seeded point."""
    kill_at = random.Random(seed * 7919).randint(5, 400)
    run_until_killed("crash_worker.py", log, ledger, seed, kill_at)
