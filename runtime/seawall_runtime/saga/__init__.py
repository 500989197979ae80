"""Sagas: multi-service operations that undo their completed steps when a later one fails.

Each step is a call of a generated operation; the spec's ``x-compensation``
says how to undo it. Every step is logged durably before it is called, so a
crashed orchestrator's sagas can be finished by :meth:`SagaRunner.recover`.
See docs/sagas.md.
"""

from seawall_runtime.saga.driver import AsyncSaga, AsyncSagaRunner, Saga, SagaRunner
from seawall_runtime.saga.expressions import ExpressionError, check_template
from seawall_runtime.saga.invoker import AsyncOperationInvoker, OperationInvoker
from seawall_runtime.saga.log import InMemorySagaLog, SagaLog
from seawall_runtime.saga.machine import CompensationUnavailable, SagaWarning
from seawall_runtime.saga.model import (
    JSON,
    Arguments,
    JSONLike,
    Compensated,
    CompensationSpec,
    Completed,
    NeedsAttention,
    OperationRef,
    RetrySchedule,
    SagaAborted,
    SagaCompensated,
    SagaError,
    SagaLogError,
    SagaNeedsAttention,
    SagaOptions,
    SagaOutcome,
    SagaRecord,
    SagaStateError,
    StepFailed,
    StepRecord,
    StepResult,
    StepSummary,
)
from seawall_runtime.saga.sqlite import SqliteSagaLog

__all__ = [
    "JSON",
    "JSONLike",
    "Arguments",
    "AsyncOperationInvoker",
    "AsyncSaga",
    "AsyncSagaRunner",
    "Compensated",
    "CompensationSpec",
    "CompensationUnavailable",
    "Completed",
    "ExpressionError",
    "InMemorySagaLog",
    "NeedsAttention",
    "OperationInvoker",
    "OperationRef",
    "RetrySchedule",
    "Saga",
    "SagaAborted",
    "SagaCompensated",
    "SagaError",
    "SagaLog",
    "SagaLogError",
    "SagaNeedsAttention",
    "SagaOptions",
    "SagaOutcome",
    "SagaRecord",
    "SagaRunner",
    "SagaStateError",
    "SagaWarning",
    "StepFailed",
    "StepRecord",
    "StepResult",
    "StepSummary",
    "SqliteSagaLog",
    "check_template",
]
