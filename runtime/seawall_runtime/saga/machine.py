"""The saga state machine, free of I/O.

Each action (run a step, roll back, recover) is a *program*: a generator that
yields effects — :class:`Persist`, :class:`Invoke`, :class:`Sleep`,
:class:`Parallel` — and receives their results. The sync and async drivers
perform the effects; tests can perform them with an in-memory log and a fake
clock. The machine never sleeps, never touches the network and never writes
anything itself, so the same logic serves threads, asyncio and recovery.
"""

from __future__ import annotations

import random
import uuid
import warnings
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, Union

from seawall_runtime.errors import CircuitOpen, TransportError
from seawall_runtime.saga import expressions
from seawall_runtime.saga.model import (
    JSON,
    Arguments,
    Compensated,
    Completed,
    NeedsAttention,
    OperationRef,
    RetrySchedule,
    SagaError,
    SagaOptions,
    SagaOutcome,
    SagaRecord,
    SagaStateError,
    StepFailed,
    StepRecord,
    StepResult,
    StepSummary,
)


@dataclass(frozen=True)
class Persist:
    """Write these records to the log, durably, before going on."""

    saga: SagaRecord | None = None
    step: StepRecord | None = None


@dataclass(frozen=True)
class Invoke:
    """Call an operation; reply with its :class:`StepResult` or the exception it raised."""

    service: str
    operation: str
    arguments: Arguments
    idempotency_key: str
    policy: Any = None


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds."""

    seconds: float


@dataclass(frozen=True)
class Parallel:
    """Run these programs concurrently; reply with their results in order."""

    programs: tuple[Program[Any], ...]


Effect = Union[Persist, Invoke, Sleep, Parallel]
T = TypeVar("T")
Program = Generator[Effect, Any, T]
Reply = Union[StepResult, BaseException]
Verdict = Literal["succeeded", "failed", "unknown"]

TRANSIENT_STATUSES = frozenset({408, 425, 429})
# Set by services that replay a stored answer for a repeated idempotency key.
REPLAYED_HEADER = "Idempotent-Replayed"
_ERROR_TEXT_LIMIT = 500


class CompensationUnavailable(SagaError):
    """A step succeeded but its compensation arguments cannot be computed from its answer."""


def _never_sent(error: BaseException) -> bool:
    """Whether the request certainly never reached the service."""
    import httpx

    if isinstance(error, TransportError):
        return not error.sent
    if isinstance(error, CircuitOpen):
        return not error.attempts  # refused before a first attempt
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def status_of(reply: Reply) -> int | None:
    """The HTTP status a reply carries (an ``ApiError`` has one too), if any."""
    status = reply.status if isinstance(reply, StepResult) else getattr(reply, "status", None)
    return status if isinstance(status, int) else None


def replayed(reply: Reply) -> bool:
    """Whether the service says this answer is the stored one of an earlier request with the key."""
    return isinstance(reply, StepResult) and (reply.header(REPLAYED_HEADER) or "").lower() == "true"


def classify(reply: Reply, *, repeat: bool = False) -> tuple[Verdict, bool]:
    """What a reply says about a forward call: its verdict, and whether trying again may help.

    2xx succeeded. Another 4xx means the service refused it: not applied (408,
    425, 429 are worth retrying). 5xx, 3xx and errors after the request may
    have left are *unknown*: possibly applied, so compensated on rollback.
    A 4xx is no proof when the client retried (it may answer a repeat of an
    applied request), nor a 409 to a ``repeat`` with the same idempotency key
    (the original may still be in flight) — unless the service marks the
    answer as the replay of the stored one (``Idempotent-Replayed: true``):
    then it *is* the original's outcome, a refusal.
    """
    status = status_of(reply)
    if isinstance(reply, StepResult):
        attempts = reply.attempts
    else:
        attempts = len(getattr(reply, "attempts", ()) or ())
    if status is not None:
        if 200 <= status < 300:
            return "succeeded", False
        if 400 <= status < 500 and replayed(reply):
            return "failed", False  # the stored refusal: asking again gets the same answer
        if 400 <= status < 500 and attempts <= 1 and not (repeat and status == 409):
            return "failed", status in TRANSIENT_STATUSES
        return "unknown", True
    assert isinstance(reply, BaseException)
    if _never_sent(reply):
        return "failed", True
    return "unknown", True


def describe(reply: Reply) -> str:
    """A short, secret-free description of a failed reply, for the log and outcomes."""
    if isinstance(reply, StepResult):
        return f"HTTP {reply.status}"
    text = f"{type(reply).__name__}: {reply}"
    return text if len(text) <= _ERROR_TEXT_LIMIT else text[: _ERROR_TEXT_LIMIT - 1] + "…"


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


class SagaMachine:
    """One saga's state and the programs that move it forward or back."""

    def __init__(
        self,
        saga: SagaRecord,
        steps: list[StepRecord] | None = None,
        *,
        options: SagaOptions = SagaOptions(),
        clock: Callable[[], float],
        rng: random.Random | None = None,
        new_key: Callable[[], str] = new_idempotency_key,
    ) -> None:
        self.saga = saga
        self.steps: list[StepRecord] = list(steps or [])
        self.options = options
        self._clock = clock
        self._rng = rng or random.Random()
        self._new_key = new_key
        self._blocked_by: StepRecord | None = None

    # -- queries ----------------------------------------------------------

    @property
    def pivot(self) -> StepRecord | None:
        """The step past which the saga can no longer be rolled back, if it was reached."""
        return next(
            (s for s in self.steps if s.compensation is None and s.state == "succeeded"), None
        )

    def summaries(self) -> tuple[StepSummary, ...]:
        return tuple(StepSummary.of(step) for step in self.steps)

    # -- forward ------------------------------------------------------------

    def start(self) -> Program[None]:
        yield Persist(saga=self.saga)

    def step(
        self,
        ref: OperationRef,
        service: str,
        arguments: Arguments,
        *,
        policy: Any = None,
        retry: RetrySchedule | None = None,
        final: bool = False,
    ) -> Program[StepResult]:
        """Run one forward step; raise :class:`StepFailed` if it does not succeed.

        ``final`` declares it the saga's last step, so that recovery can finish a
        saga that crashed after it without asking a person.
        """
        if self.saga.state != "running":
            raise SagaStateError(f"saga {self.saga.saga_id} is {self.saga.state}; no more steps")
        if self._blocked_by is not None:
            raise SagaStateError(
                f"{self._blocked_by.label} may have been applied; the saga must roll back"
            )
        pivot = self.pivot
        if pivot is not None and not ref.idempotent:
            warnings.warn(
                f"{service}.{ref.name} runs after the pivot {pivot.label} but is not idempotent:"
                " if its outcome is unknown it cannot be retried and the saga will need attention",
                SagaWarning,
                stacklevel=4,
            )
        record = StepRecord(
            saga_id=self.saga.saga_id,
            index=len(self.steps),
            service=service,
            operation=ref.name,
            arguments=dict(arguments),
            idempotency_key=self._new_key(),
            idempotent=ref.idempotent,
            compensation=ref.compensation,
            final=final,
        )
        self.steps.append(record)
        yield Persist(step=record)
        # A pivot and everything after it can only go forward: keep trying.
        forward_only = ref.is_pivot or pivot is not None
        schedule = retry or self.options.forward_retry
        record, reply = yield from self._drive_forward(
            record, policy, schedule if forward_only else None
        )
        if isinstance(reply, StepResult) and record.state == "succeeded":
            if record.compensation is not None and record.compensation_arguments is None:
                self._blocked_by = record
                raise CompensationUnavailable(f"{record.label} succeeded but {record.last_error}")
            return reply
        failure = StepFailed(
            record, record.last_error or "failed", unknown=record.state == "unknown"
        )
        if isinstance(reply, StepResult):
            failure.result = reply
        if record.state == "unknown":
            self._blocked_by = record
        if isinstance(reply, BaseException):
            raise failure from reply
        raise failure

    def _drive_forward(
        self,
        record: StepRecord,
        policy: Any,
        retry: RetrySchedule | None,
        *,
        repeated: bool = False,
    ) -> Program[tuple[StepRecord, Reply]]:
        """Call a step (again, with its key) until it has a definite verdict or retries run out.

        ``repeated``: the step may have been sent before (recovery of an in-flight step).
        """
        attempt = 0
        conflicted = False
        while True:
            attempt += 1
            reply: Reply = yield Invoke(
                record.service, record.operation, record.arguments, record.idempotency_key, policy
            )
            verdict, transient = classify(reply, repeat=repeated or attempt > 1)
            conflicted = conflicted or status_of(reply) == 409
            if verdict == "succeeded":
                assert isinstance(reply, StepResult)
                record = yield from self._record_success(record, reply)
                return record, reply
            may_retry = retry is not None and transient and attempt < retry.attempts
            if verdict == "unknown" and not record.idempotent:
                may_retry = False  # repeating it could apply it twice
            if not may_retry:
                status = status_of(reply)
                # An unmarked 409 seen during retries that ran out is a stored refusal:
                # "in flight" does not outlast them, and no answer contradicted it.
                ran_out = retry is not None and attempt >= retry.attempts
                if verdict == "unknown" and conflicted and ran_out:
                    verdict, status = "failed", 409
                record = replace(record, state=verdict, status=status, last_error=describe(reply))
                self._put(record)
                yield Persist(step=record)
                return record, reply
            assert retry is not None
            yield Sleep(retry.delay(attempt, self._rng))

    def _record_success(self, record: StepRecord, result: StepResult) -> Program[StepRecord]:
        arguments: Arguments | None = None
        problem: str | None = None
        if record.compensation is not None:
            context = expressions.Context(record.arguments, result)
            try:
                rendered = expressions.render(dict(record.compensation.arguments), context)
                assert isinstance(rendered, dict)
                arguments = rendered
            except expressions.ExpressionError as error:
                problem = f"compensation arguments: {error}"
        record = replace(
            record,
            state="succeeded",
            status=result.status,
            compensation_arguments=arguments,
            compensation_key=self._new_key() if record.compensation is not None else None,
            last_error=problem,
        )
        self._put(record)
        yield Persist(step=record)
        return record

    def complete(self) -> Program[Completed]:
        if self.saga.state not in ("running", "needs_attention"):
            raise SagaStateError(
                f"saga {self.saga.saga_id} is {self.saga.state}; it cannot complete"
            )
        self._set_saga("completed", {})
        yield Persist(saga=self.saga)
        return Completed(self.saga.saga_id, self.summaries())

    # -- backward -----------------------------------------------------------

    def abort(
        self, cause: str, error: BaseException | None = None
    ) -> Program[Compensated | NeedsAttention]:
        """The orchestration failed: undo what may have been applied, or explain why not."""
        pivot = self.pivot
        if pivot is not None:
            failing = next((s for s in reversed(self.steps) if s.state != "succeeded"), None)
            return (
                yield from self._attention(
                    f"failed after the pivot {pivot.label}, which cannot be undone",
                    failing,
                    cause,
                    error,
                )
            )
        uncertain_pivot = next(
            (s for s in self.steps if s.compensation is None and s.state in ("started", "unknown")),
            None,
        )
        if uncertain_pivot is not None:
            return (
                yield from self._attention(
                    f"the pivot {uncertain_pivot.label} may have been applied and cannot be undone",
                    uncertain_pivot,
                    cause,
                    error,
                )
            )
        self._set_saga("compensating", {"cause": cause})
        yield Persist(saga=self.saga)
        targets = [s for s in reversed(self.steps) if s.state not in ("failed", "compensated")]
        if self.options.parallel_compensations and len(targets) > 1:
            yield Parallel(tuple(self._compensate(s) for s in targets))
        else:
            for target in targets:
                done = yield from self._compensate(target)
                if done.state != "compensated" and not self.options.continue_on_compensation_error:
                    break
        stuck = [s for s in self.steps if s.state == "compensation_failed"]
        if stuck:
            return (
                yield from self._attention(
                    f"the compensation of {stuck[-1].label} kept failing", stuck[-1], cause, error
                )
            )
        self._set_saga("compensated", {"cause": cause})
        yield Persist(saga=self.saga)
        return Compensated(self.saga.saga_id, cause, self.summaries(), error)

    def _attention(
        self, reason: str, step: StepRecord | None, cause: str | None, error: BaseException | None
    ) -> Program[NeedsAttention]:
        last_error = step.last_error if step is not None else None
        detail: dict[str, JSON] = {"reason": reason, "cause": cause, "last_error": last_error}
        detail["step"] = None if step is None else step.index
        self._set_saga("needs_attention", detail)
        yield Persist(saga=self.saga)
        return NeedsAttention(
            self.saga.saga_id,
            reason,
            None if step is None else StepSummary.of(self.steps[step.index]),
            last_error,
            self.summaries(),
            cause,
            error,
        )

    def _compensate(self, record: StepRecord) -> Program[StepRecord]:
        """Undo one step, retrying with backoff; it ends compensated or compensation_failed."""
        assert record.compensation is not None
        operation = record.compensation.operation
        schedule = self.options.compensation_retry
        record = replace(
            record,
            state="compensating",
            compensation_key=record.compensation_key or self._new_key(),
        )
        self._put(record)
        yield Persist(step=record)
        while True:
            arguments = record.compensation_arguments
            if arguments is None:
                record, arguments, final = yield from self._compensation_arguments(record)
                if final:
                    return record
            if arguments is not None:
                assert record.compensation_key is not None
                reply: Reply = yield Invoke(
                    record.service, operation, arguments, record.compensation_key
                )
                status = status_of(reply)
                if status is not None and (
                    200 <= status < 300 or status in self.options.nothing_to_undo
                ):
                    return (yield from self._settle(record, "compensated", None))
                _, transient = classify(reply, repeat=record.attempts > 0)
                record = replace(record, attempts=record.attempts + 1, last_error=describe(reply))
                if not transient:
                    return (
                        yield from self._settle(record, "compensation_failed", record.last_error)
                    )
            if record.attempts >= schedule.attempts:
                return (yield from self._settle(record, "compensation_failed", record.last_error))
            self._put(record)
            yield Persist(step=record)
            yield Sleep(schedule.delay(record.attempts, self._rng))

    def _compensation_arguments(
        self, record: StepRecord
    ) -> Program[tuple[StepRecord, Arguments | None, bool]]:
        """Arguments for undoing a step whose answer was lost.

        Returns ``(record, arguments, final)``: ``final`` means the step is settled
        (e.g. it turned out never to have been applied); ``arguments`` None with
        ``final`` False means "not yet, try again later" (attempts counted).
        """
        assert record.compensation is not None
        template = dict(record.compensation.arguments)
        if not expressions.needs_response(template):
            rendered = expressions.render(template, expressions.Context(record.arguments))
            assert isinstance(rendered, dict)
            return record, rendered, False
        if not record.idempotent:
            reason = (
                "its outcome is unknown, its compensation needs the response, and the"
                " operation is not idempotent, so it cannot be asked again"
            )
            return (yield from self._settle(record, "compensation_failed", reason)), None, True
        # Ask again with the same idempotency key: the service answers the
        # original request (or applies it now), so the compensation is exact.
        reply: Reply = yield Invoke(
            record.service, record.operation, record.arguments, record.idempotency_key
        )
        verdict, transient = classify(reply, repeat=True)
        if verdict == "succeeded":
            assert isinstance(reply, StepResult)
            try:
                rendered = expressions.render(
                    template, expressions.Context(record.arguments, reply)
                )
            except expressions.ExpressionError as error:
                reason = f"compensation arguments: {error}"
                return (yield from self._settle(record, "compensation_failed", reason)), None, True
            assert isinstance(rendered, dict)
            record = replace(record, status=reply.status, compensation_arguments=rendered)
            self._put(record)
            yield Persist(step=record)
            return record, rendered, False
        # The step's status keeps the evidence across repeats: once an unmarked 409
        # was seen, a later reset or 5xx does not erase it.
        status = record.status if status_of(reply) != 409 else 409
        record = replace(
            record, attempts=record.attempts + 1, status=status, last_error=describe(reply)
        )
        # A refusal (a definite 4xx, or a 409 marked as replayed) means it was never
        # applied. An unmarked 409 may only mean "still in flight" — until the
        # retries run out with no answer contradicting it: then it is stored.
        refused = verdict == "failed" and not transient
        if status == 409 and record.attempts >= self.options.compensation_retry.attempts:
            refused = True
        if refused:
            return (yield from self._settle(record, "compensated", None)), None, True
        return record, None, False

    def _settle(
        self,
        record: StepRecord,
        state: Literal["compensated", "compensation_failed"],
        error: str | None,
    ) -> Program[StepRecord]:
        record = replace(record, state=state, last_error=error)
        self._put(record)
        yield Persist(step=record)
        return record

    # -- recovery -----------------------------------------------------------

    def recover(self, cause: str) -> Program[SagaOutcome]:
        """Drive a saga found unfinished (or needing attention) in the log to an end.

        Compensations that kept failing are tried again from scratch; a step that
        was in flight is asked again with its own idempotency key when that is
        safe, so the service sees a repeat, never a new request.
        """
        if self.saga.state in ("completed", "compensated"):
            raise SagaStateError(f"saga {self.saga.saga_id} already ended {self.saga.state}")
        if self.saga.state == "running" and self._ran_to_the_end():
            return (yield from self.complete())  # crashed between the last step and "completed"
        for record in self.steps:
            if record.state == "compensation_failed":
                self._put(replace(record, state="compensating", attempts=0))
        # An in-flight step without compensation may be the pivot: settle it first.
        for record in list(self.steps):
            if record.state == "started" and record.compensation is None and record.idempotent:
                settled, _ = yield from self._drive_forward(
                    record, None, self.options.forward_retry, repeated=True
                )
                if settled.state != "succeeded":
                    break
        pivot = self.pivot
        if pivot is None:
            return (yield from self.abort(cause))
        for record in list(self.steps):
            if record.index > pivot.index and record.state in ("started", "unknown"):
                if record.idempotent:
                    record, _ = yield from self._drive_forward(
                        record, None, self.options.forward_retry, repeated=True
                    )
                if record.state != "succeeded":
                    return (
                        yield from self._attention(
                            f"{record.label} after the pivot could not be finished",
                            record,
                            cause,
                            None,
                        )
                    )
        if self._ran_to_the_end():
            return (yield from self.complete())
        return (
            yield from self._attention(
                f"the orchestration stopped after the pivot {pivot.label}; the logged steps are"
                " finished, but steps it had not started yet must be run by hand",
                None,
                cause,
                None,
            )
        )

    def _ran_to_the_end(self) -> bool:
        """Whether the step declared final succeeded and nothing else is left open."""
        return (
            bool(self.steps)
            and self.steps[-1].final
            and all(s.state in ("succeeded", "failed") for s in self.steps)
            and self.steps[-1].state == "succeeded"
        )

    # -- bookkeeping ----------------------------------------------------------

    def _put(self, record: StepRecord) -> None:
        self.steps[record.index] = record

    def _set_saga(self, state: Any, detail: Mapping[str, JSON]) -> None:
        self.saga = replace(self.saga, state=state, detail=dict(detail), updated_at=self._clock())


class SagaWarning(UserWarning):
    """A saga is built in a way that can leave it needing attention."""
