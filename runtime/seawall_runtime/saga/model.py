"""The saga's vocabulary: what generated code describes, what the log records, what users get back.

Everything here is plain, immutable data. Arguments, results and compensation
templates are JSON values, so a step can be written to the log before its call
and a compensation can be invoked by name in a fresh process during recovery.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

JSON = Union[None, bool, int, float, str, list["JSON"], dict[str, "JSON"]]
"""A JSON value as the standard library's ``json`` module reads it."""

JSONLike = Union[None, bool, int, float, str, Sequence["JSONLike"], Mapping[str, "JSONLike"]]
"""A JSON value as accepted from callers: any mappings and sequences will do."""

Arguments = Mapping[str, JSONLike]
"""A step's request, in the canonical shape every invoker accepts::

    {"path": {...}, "query": {...}, "header": {...}, "body": <JSON>}

Every key is optional. Names are the spec's parameter names; ``body`` is the
request body already serialised to JSON (for pydantic models:
``model_dump(mode="json", by_alias=True, exclude_unset=True)``). Credentials
never go here: they belong to the client's configuration, not to the log.
"""

ARGUMENT_SECTIONS = ("path", "query", "header", "body")


@dataclass(frozen=True)
class StepResult:
    """An HTTP answer to one invocation: status, response headers and JSON body.

    ``attempts`` is how many HTTP attempts the client made for it: an error
    status after a retry may answer a repeat of a request that was applied.
    """

    status: int
    body: JSON = None
    headers: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        """A response header, looked up case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class CompensationSpec:
    """How to undo an operation, from the spec's ``x-compensation``.

    ``arguments`` is a template in the canonical :data:`Arguments` shape. Any
    string in it that starts with ``$`` is an OpenAPI runtime expression
    (``$response.body#/id``, ``$request.path.orderId``, ``$statusCode`` …)
    evaluated against the forward step's request and response; ``{$…}``
    inside a longer string is replaced by the expression's value; ``$$`` at the
    start of a string stands for a literal ``$``. Everything else is a literal.
    """

    operation: str
    arguments: Arguments = field(default_factory=dict)


@dataclass(frozen=True)
class OperationRef:
    """What the saga needs to know about one generated operation.

    ``idempotent`` is true when repeating the call with the same idempotency key
    is safe (a safe/idempotent method, or the service honours the key header).
    An operation without ``compensation`` is a *pivot*: once it succeeds the
    saga can no longer be rolled back.
    """

    name: str
    idempotent: bool
    compensation: CompensationSpec | None = None

    @property
    def is_pivot(self) -> bool:
        return self.compensation is None


@dataclass(frozen=True)
class RetrySchedule:
    """Capped exponential backoff with full jitter, and a limit on attempts."""

    attempts: int = 8
    initial: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetrySchedule.attempts must be at least 1")
        if not (self.initial > 0 and math.isfinite(self.initial)):
            raise ValueError("RetrySchedule.initial must be a positive number of seconds")
        if self.multiplier < 1:
            raise ValueError("RetrySchedule.multiplier must be at least 1")
        if self.max_delay < self.initial:
            raise ValueError("RetrySchedule.max_delay must not be below initial")

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        """Seconds to wait after ``failed_attempts`` failures (1 = after the first)."""
        ceiling = min(self.max_delay, self.initial * self.multiplier ** (failed_attempts - 1))
        return rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class SagaOptions:
    """How a saga rolls back and retries. Every field has a safe default."""

    compensation_retry: RetrySchedule = RetrySchedule()
    forward_retry: RetrySchedule = RetrySchedule()
    """Retries of a pivot or post-pivot step whose outcome is unknown or transient."""
    parallel_compensations: bool = False
    continue_on_compensation_error: bool = False
    nothing_to_undo: frozenset[int] = frozenset({404, 410})
    """Statuses that mean a compensation found nothing to undo: counted as done."""


StepState = Literal[
    "started",  # logged before the call; the outcome is not known yet
    "succeeded",
    "failed",  # the service certainly did not apply it
    "unknown",  # possibly applied: timeout, lost response, 5xx, crash mid-call
    "compensating",
    "compensated",
    "compensation_failed",
]

SagaState = Literal["running", "compensating", "completed", "compensated", "needs_attention"]
FINISHED_STATES: frozenset[str] = frozenset({"completed", "compensated", "needs_attention"})


@dataclass(frozen=True)
class StepRecord:
    """One step as the log holds it."""

    saga_id: str
    index: int
    service: str
    operation: str
    arguments: Arguments
    idempotency_key: str
    idempotent: bool
    compensation: CompensationSpec | None
    state: StepState = "started"
    status: int | None = None
    compensation_arguments: Arguments | None = None
    compensation_key: str | None = None
    attempts: int = 0
    """Compensation attempts made so far (forward attempts are the client's business)."""
    last_error: str | None = None
    final: bool = False
    """Declared the saga's last step: once it succeeds, the saga has nothing left to run."""

    @property
    def label(self) -> str:
        return f"step {self.index} ({self.service}.{self.operation})"


@dataclass(frozen=True)
class SagaRecord:
    """One saga as the log holds it."""

    saga_id: str
    name: str
    state: SagaState
    owner: str
    created_at: float
    updated_at: float
    detail: Mapping[str, JSON] = field(default_factory=dict)
    """Why it ended as it did: ``cause``, ``reason``, ``step``, ``last_error``."""


@dataclass(frozen=True)
class StepSummary:
    """A finished step, as reported in an outcome."""

    index: int
    service: str
    operation: str
    state: StepState
    idempotency_key: str
    compensation_key: str | None

    @classmethod
    def of(cls, step: StepRecord) -> StepSummary:
        return cls(
            step.index,
            step.service,
            step.operation,
            step.state,
            step.idempotency_key,
            step.compensation_key,
        )


@dataclass(frozen=True)
class Completed:
    """Every step succeeded."""

    saga_id: str
    steps: tuple[StepSummary, ...]


@dataclass(frozen=True)
class Compensated:
    """A step failed (or the orchestration raised) and every applied step was undone."""

    saga_id: str
    cause: str
    steps: tuple[StepSummary, ...]
    error: BaseException | None = None
    """The exception that started the rollback, when it happened in this process."""


@dataclass(frozen=True)
class NeedsAttention:
    """The saga could not be driven to a clean end; a person has to look.

    ``step`` is the step that is stuck (a compensation that kept failing, or a
    step after the pivot that could not be finished), ``last_error`` what it
    last answered, ``done`` every step with what happened to it.
    """

    saga_id: str
    reason: str
    step: StepSummary | None
    last_error: str | None
    done: tuple[StepSummary, ...]
    cause: str | None = None
    error: BaseException | None = None


SagaOutcome = Union[Completed, Compensated, NeedsAttention]


class SagaError(Exception):
    """Base class of every error the saga package raises."""


class SagaLogError(SagaError):
    """The saga log cannot be opened, read or written. Names the log."""


class SagaStateError(SagaError):
    """The saga was used in a way its state does not allow (e.g. a step after it ended)."""


class StepFailed(SagaError):
    """A step did not succeed. ``unknown`` is true when it may have been applied."""

    def __init__(self, step: StepRecord, message: str, *, unknown: bool) -> None:
        super().__init__(f"{step.label} failed: {message}")
        self.step = step
        self.unknown = unknown
        self.result: StepResult | None = None


class SagaAborted(SagaError):
    """Raised when a ``with`` saga block ends without completing; carries the outcome."""

    def __init__(self, outcome: Compensated | NeedsAttention) -> None:
        if isinstance(outcome, Compensated):
            message = f"saga {outcome.saga_id} compensated: {outcome.cause}"
        else:
            message = f"saga {outcome.saga_id} needs attention: {outcome.reason}"
        super().__init__(message)
        self.outcome = outcome


class SagaCompensated(SagaAborted):
    """The saga failed and was rolled back cleanly."""

    outcome: Compensated


class SagaNeedsAttention(SagaAborted):
    """The saga failed and could not be rolled back (or finished) cleanly."""

    outcome: NeedsAttention
