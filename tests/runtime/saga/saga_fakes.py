"""Test doubles for saga tests: an invoker that answers from a script and records every call."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from seawall_runtime.saga import Arguments, CompensationSpec, OperationRef, StepResult

Reply = Union[StepResult, BaseException]
Answer = Union[Reply, Callable[[Arguments], Reply]]


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    arguments: Arguments
    idempotency_key: str
    policy: Any


def undoable(
    name: str, undo: str, *, idempotent: bool = True, template: Any = None
) -> OperationRef:
    """An operation compensated by ``undo`` with the resource id from the response."""
    arguments = template if template is not None else {"path": {"id": "$response.body#/id"}}
    return OperationRef(name, idempotent=idempotent, compensation=CompensationSpec(undo, arguments))


class ScriptedInvoker:
    """Answers each operation from its script (first-in, first-out), else with a default.

    The default for any operation is 200 with a fresh ``{"id": "<op>-<n>"}`` body.
    """

    def __init__(
        self,
        service: str,
        operations: Mapping[str, OperationRef],
        script: Mapping[str, list[Answer]] | None = None,
        journal: list[Call] | None = None,
    ) -> None:
        self.service = service
        self.operations = dict(operations)
        self.script = {name: list(answers) for name, answers in (script or {}).items()}
        self.calls: list[Call] = []
        self.journal = (
            journal if journal is not None else []
        )  # shared across services: global order
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def operation(self, name: str) -> OperationRef:
        return self.operations.get(name) or OperationRef(name, idempotent=True)

    def invoke(
        self,
        operation: str,
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Any = None,
    ) -> StepResult:
        with self._lock:
            call = Call(self.service, operation, arguments, idempotency_key, policy)
            self.calls.append(call)
            self.journal.append(call)
            answers = self.script.get(operation)
            answer: Answer = (
                answers.pop(0)
                if answers
                else StepResult(200, {"id": f"{operation}-{next(self._counter)}"})
            )
        reply = answer(arguments) if callable(answer) else answer
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def called(self, operation: str | None = None) -> list[Call]:
        return [c for c in self.calls if operation is None or c.operation == operation]


class AsyncScripted:
    """The async face of a :class:`ScriptedInvoker`."""

    def __init__(self, inner: ScriptedInvoker) -> None:
        self.inner = inner
        self.service = inner.service

    def operation(self, name: str) -> OperationRef:
        return self.inner.operation(name)

    async def invoke(
        self,
        operation: str,
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Any = None,
    ) -> StepResult:
        return self.inner.invoke(
            operation, arguments, idempotency_key=idempotency_key, policy=policy
        )
