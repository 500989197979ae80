"""The saga log protocol, the record (de)serialisation every store shares, and an in-memory store."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any, Protocol, cast

from seawall_runtime.saga.model import (
    JSON,
    CompensationSpec,
    SagaLogError,
    SagaRecord,
    SagaState,
    StepRecord,
    StepState,
)


class SagaLog(Protocol):
    """Where sagas and their steps are recorded, durably, before anything is called.

    Implementations must be safe to use from several threads; a store shared
    between processes must make :meth:`claim` atomic across them.
    """

    def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
        """Insert or replace a saga and/or one of its steps, as one durable transaction."""

    def load(self, saga_id: str) -> tuple[SagaRecord, list[StepRecord]]:
        """A saga and its steps ordered by index. Unknown ids raise :class:`SagaLogError`."""

    def sagas(self, states: Collection[str] | None = None) -> list[SagaRecord]:
        """Every saga (or those in ``states``), oldest first."""

    def claim(self, saga_id: str, expected_owner: str, new_owner: str, now: float) -> bool:
        """Make ``new_owner`` the saga's owner if it still is ``expected_owner``."""

    def close(self) -> None:
        """Release the store's resources."""


def step_to_json(step: StepRecord) -> dict[str, object]:
    """A step as a JSON object (the stored form)."""
    compensation: object = None
    if step.compensation is not None:
        compensation = {
            "operation": step.compensation.operation,
            "arguments": dict(step.compensation.arguments),
        }
    return {
        "service": step.service,
        "operation": step.operation,
        "arguments": dict(step.arguments),
        "idempotency_key": step.idempotency_key,
        "idempotent": step.idempotent,
        "compensation": compensation,
        "state": step.state,
        "status": step.status,
        "compensation_arguments": (
            None if step.compensation_arguments is None else dict(step.compensation_arguments)
        ),
        "compensation_key": step.compensation_key,
        "attempts": step.attempts,
        "last_error": step.last_error,
        "final": step.final,
    }


def step_from_json(saga_id: str, index: int, data: Mapping[str, Any]) -> StepRecord:
    """The inverse of :func:`step_to_json`."""
    compensation = data["compensation"]
    return StepRecord(
        saga_id=saga_id,
        index=index,
        service=data["service"],
        operation=data["operation"],
        arguments=data["arguments"],
        idempotency_key=data["idempotency_key"],
        idempotent=bool(data["idempotent"]),
        compensation=(
            None
            if compensation is None
            else CompensationSpec(compensation["operation"], compensation["arguments"])
        ),
        state=cast(StepState, data["state"]),
        status=data["status"],
        compensation_arguments=data["compensation_arguments"],
        compensation_key=data["compensation_key"],
        attempts=int(data["attempts"]),
        last_error=data["last_error"],
        final=bool(data.get("final", False)),
    )


def saga_state(value: str) -> SagaState:
    return cast(SagaState, value)


class InMemorySagaLog:
    """A log that lives as long as the process: for tests and for sagas that need no recovery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sagas: dict[str, SagaRecord] = {}
        self._steps: dict[str, dict[int, StepRecord]] = {}

    def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
        with self._lock:
            if saga is not None:
                self._sagas[saga.saga_id] = saga
                self._steps.setdefault(saga.saga_id, {})
            if step is not None:
                if step.saga_id not in self._sagas:
                    raise SagaLogError(f"in-memory saga log: no saga {step.saga_id!r}")
                self._steps[step.saga_id][step.index] = step

    def load(self, saga_id: str) -> tuple[SagaRecord, list[StepRecord]]:
        with self._lock:
            if saga_id not in self._sagas:
                raise SagaLogError(f"in-memory saga log: no saga {saga_id!r}")
            steps = self._steps[saga_id]
            return self._sagas[saga_id], [steps[i] for i in sorted(steps)]

    def sagas(self, states: Collection[str] | None = None) -> list[SagaRecord]:
        with self._lock:
            found = [s for s in self._sagas.values() if states is None or s.state in states]
        return sorted(found, key=lambda s: (s.created_at, s.saga_id))

    def claim(self, saga_id: str, expected_owner: str, new_owner: str, now: float) -> bool:
        with self._lock:
            saga = self._sagas.get(saga_id)
            if saga is None or saga.owner != expected_owner:
                return False
            self._sagas[saga_id] = replace(saga, owner=new_owner, updated_at=now)
            return True

    def close(self) -> None:
        """Nothing to release."""
