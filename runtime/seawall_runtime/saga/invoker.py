"""What a generated client provides so that the saga can call, repeat and undo its operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from seawall_runtime.saga.model import Arguments, OperationRef, StepResult


class DescribesOperations(Protocol):
    """What every invoker, sync or async, has: a service name and operation descriptions."""

    service: str

    def operation(self, name: str) -> OperationRef:
        """The description of operation ``name`` (its operationId); ``KeyError`` if unknown."""
        ...


@runtime_checkable
class OperationInvoker(DescribesOperations, Protocol):
    """A client's operations, callable by name with JSON arguments (sync).

    ``service`` names the client in the saga log; recovery in a fresh process
    finds the invoker again by that name, so it must be stable (the generated
    package's name). ``invoke`` sends the request with ``idempotency_key`` in the
    operation's idempotency-key header when the spec declares one, and returns
    the answer whatever its status; it raises only when there is no answer.
    """

    def invoke(
        self,
        operation: str,
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Any = None,
    ) -> StepResult:
        """Call ``operation``; ``policy`` (a ``seawall_runtime.Policy``) overrides the client's."""
        ...


@runtime_checkable
class AsyncOperationInvoker(DescribesOperations, Protocol):
    """The async twin of :class:`OperationInvoker`."""

    async def invoke(
        self,
        operation: str,
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Any = None,
    ) -> StepResult:
        """Call ``operation``; ``policy`` (a ``seawall_runtime.Policy``) overrides the client's."""
        ...
