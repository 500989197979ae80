"""Sync and async drivers: perform the state machine's effects, and the user-facing saga API.

The common case reads like the business process::

    runner = SagaRunner(SqliteSagaLog("sagas.db"))
    with runner.saga("place-order") as saga:
        order = saga.step(orders, "createOrder", {"body": {...}})
        saga.step(payments, "chargeCard", {"body": {"orderId": order.body["id"]}})

A failing step (or any exception in the block) rolls back the applied steps in
reverse and raises :class:`SagaCompensated` or :class:`SagaNeedsAttention`
from the original error; ``saga.outcome`` holds the typed outcome either way.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Generic, TypeVar

from seawall_runtime.clock import Clock, SystemClock
from seawall_runtime.saga.invoker import (
    AsyncOperationInvoker,
    DescribesOperations,
    OperationInvoker,
)
from seawall_runtime.saga.log import SagaLog
from seawall_runtime.saga.machine import (
    Effect,
    Invoke,
    Parallel,
    Persist,
    Program,
    SagaMachine,
    Sleep,
)
from seawall_runtime.saga.model import (
    Arguments,
    Compensated,
    Completed,
    NeedsAttention,
    OperationRef,
    RetrySchedule,
    SagaCompensated,
    SagaLogError,
    SagaNeedsAttention,
    SagaOptions,
    SagaOutcome,
    SagaRecord,
    SagaStateError,
    StepResult,
)
from seawall_runtime.saga.ownership import abandoned, new_owner

T = TypeVar("T")
I = TypeVar("I", bound=DescribesOperations)
O = TypeVar("O", bound=SagaOutcome)
RECOVERY_CAUSE = "recovered: the orchestrating process stopped before the saga ended"
RECOVERABLE_STATES = ("running", "compensating", "needs_attention")


def _cause_of(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _rolls_back(error: BaseException) -> bool:
    """Whether a failure inside a saga rolls it back now.

    Not when the log itself failed (nothing more can be recorded) nor on
    KeyboardInterrupt and the like: the saga is left to recovery.
    """
    return isinstance(error, Exception) and not isinstance(error, SagaLogError)


def _raise_for(outcome: Compensated | NeedsAttention, error: BaseException) -> None:
    if isinstance(outcome, Compensated):
        raise SagaCompensated(outcome) from error
    raise SagaNeedsAttention(outcome) from error


class _RunnerBase:
    """What the sync and async runners share: the log, options, clock and identity."""

    def __init__(
        self,
        log: SagaLog,
        *,
        options: SagaOptions = SagaOptions(),
        clock: Clock | None = None,
        rng: random.Random | None = None,
        owner: str | None = None,
    ) -> None:
        self.log = log
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.owner = owner or new_owner()

    def _new_machine(
        self, name: str, saga_id: str | None, options: SagaOptions | None
    ) -> SagaMachine:
        now = self.clock.wall()
        record = SagaRecord(saga_id or str(uuid.uuid4()), name, "running", self.owner, now, now)
        return SagaMachine(
            record, options=options or self.options, clock=self.clock.wall, rng=self.rng
        )

    def _claimable(
        self,
        saga_ids: Collection[str] | None,
        stale_after: float | None,
        retry_needs_attention: bool,
    ) -> list[SagaMachine]:
        """Machines for the sagas recovery should drive, each claimed for this runner."""
        states = RECOVERABLE_STATES if retry_needs_attention else RECOVERABLE_STATES[:2]
        machines = []
        for saga in self.log.sagas(states):
            if saga_ids is not None and saga.saga_id not in saga_ids:
                continue
            if saga.owner == self.owner or not abandoned(
                saga, now=self.clock.wall(), stale_after=stale_after
            ):
                continue
            if not self.log.claim(saga.saga_id, saga.owner, self.owner, self.clock.wall()):
                continue  # another recoverer was quicker
            record, steps = self.log.load(saga.saga_id)
            machines.append(
                SagaMachine(
                    record, steps, options=self.options, clock=self.clock.wall, rng=self.rng
                )
            )
        return machines


class _SagaBase(Generic[I]):
    """State shared by :class:`Saga` and :class:`AsyncSaga`."""

    def __init__(
        self, log: SagaLog, clock: Clock, machine: SagaMachine, invokers: dict[str, I]
    ) -> None:
        self.log = log
        self.clock = clock
        self.machine = machine
        self.invokers = invokers
        self.outcome: SagaOutcome | None = None

    @property
    def saga_id(self) -> str:
        return self.machine.saga.saga_id

    def _step_program(
        self,
        invoker: I,
        operation: str | OperationRef,
        arguments: Arguments | None,
        policy: Any,
        retry: RetrySchedule | None,
        final: bool,
    ) -> Program[StepResult]:
        ref = operation if isinstance(operation, OperationRef) else invoker.operation(operation)
        self.invokers.setdefault(invoker.service, invoker)
        return self.machine.step(
            ref, invoker.service, arguments or {}, policy=policy, retry=retry, final=final
        )

    def _invoker(self, service: str) -> I:
        try:
            return self.invokers[service]
        except KeyError:
            raise SagaStateError(f"no invoker for service {service!r} was given") from None

    def _settled(self, outcome: O) -> O:
        self.outcome = outcome
        return outcome


class SagaRunner(_RunnerBase):
    """Starts sagas on a log, performs their effects synchronously, and recovers them."""

    def saga(
        self, name: str, *, saga_id: str | None = None, options: SagaOptions | None = None
    ) -> Saga:
        """A new saga, recorded in the log before this returns; use it in a ``with`` block."""
        saga = Saga(self.log, self.clock, self._new_machine(name, saga_id, options), {})
        saga.perform(saga.machine.start())
        return saga

    def run(self, name: str, body: Callable[[Saga], object], **begin: Any) -> SagaOutcome:
        """Run ``body(saga)`` as a saga and return its outcome instead of raising."""
        saga = self.saga(name, **begin)
        try:
            body(saga)
        except Exception as error:  # noqa: BLE001 - every failure becomes the outcome
            if not _rolls_back(error):
                raise
            return saga.abort(_cause_of(error), error)
        return saga.complete()

    def recover(
        self,
        invokers: Mapping[str, OperationInvoker],
        *,
        saga_ids: Collection[str] | None = None,
        stale_after: float | None = None,
        retry_needs_attention: bool = False,
    ) -> list[SagaOutcome]:
        """Drive every abandoned, unfinished saga to an end; see :func:`abandoned`."""
        outcomes = []
        for machine in self._claimable(saga_ids, stale_after, retry_needs_attention):
            saga = Saga(self.log, self.clock, machine, dict(invokers))
            outcomes.append(saga._settled(saga.perform(machine.recover(RECOVERY_CAUSE))))
        return outcomes


class Saga(_SagaBase[OperationInvoker]):
    """One running saga (sync). Use as a context manager, or call complete()/abort()."""

    def step(
        self,
        invoker: OperationInvoker,
        operation: str | OperationRef,
        arguments: Arguments | None = None,
        *,
        policy: Any = None,
        retry: RetrySchedule | None = None,
        final: bool = False,
    ) -> StepResult:
        """Call one operation as the saga's next step. Raises ``StepFailed`` if it fails.

        ``policy`` overrides the client's policy for this call; ``retry`` the saga's
        forward retries (pivot and later steps); ``final=True`` marks the last step.
        """
        return self.perform(self._step_program(invoker, operation, arguments, policy, retry, final))

    def complete(self) -> Completed:
        return self._settled(self.perform(self.machine.complete()))

    def abort(self, cause: str, error: BaseException | None = None) -> Compensated | NeedsAttention:
        """Roll back (or explain why not). The outcome is returned, not raised."""
        return self._settled(self.perform(self.machine.abort(cause, error)))

    def __enter__(self) -> Saga:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self.complete()
        elif _rolls_back(error):
            _raise_for(self.abort(_cause_of(error), error), error)

    def perform(self, program: Program[T]) -> T:
        """Run a machine program to its end, performing each effect."""
        try:
            effect = next(program)
            while True:
                effect = program.send(self._do(effect))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _do(self, effect: Effect) -> Any:
        if isinstance(effect, Persist):
            self.log.write(effect.saga, effect.step)
            return None
        if isinstance(effect, Invoke):
            invoker = self._invoker(effect.service)
            try:
                return invoker.invoke(
                    effect.operation,
                    effect.arguments,
                    idempotency_key=effect.idempotency_key,
                    policy=effect.policy,
                )
            except Exception as error:  # noqa: BLE001 - the machine classifies it
                return error
        if isinstance(effect, Sleep):
            self.clock.sleep(effect.seconds)
            return None
        with ThreadPoolExecutor(max_workers=len(effect.programs)) as pool:
            return list(pool.map(self.perform, effect.programs))


class AsyncSagaRunner(_RunnerBase):
    """The async twin of :class:`SagaRunner` (log writes stay synchronous: they must be durable)."""

    async def begin(
        self, name: str, *, saga_id: str | None = None, options: SagaOptions | None = None
    ) -> AsyncSaga:
        saga = AsyncSaga(self.log, self.clock, self._new_machine(name, saga_id, options), {})
        await saga.perform(saga.machine.start())
        return saga

    def saga(self, name: str, **begin: Any) -> _AsyncBegin:
        """``async with runner.saga("name") as saga:`` — begin, then complete or roll back."""
        return _AsyncBegin(self, name, begin)

    async def run(
        self, name: str, body: Callable[[AsyncSaga], Awaitable[object]], **begin: Any
    ) -> SagaOutcome:
        saga = await self.begin(name, **begin)
        try:
            await body(saga)
        except Exception as error:  # noqa: BLE001 - every failure becomes the outcome
            if not _rolls_back(error):
                raise
            return await saga.abort(_cause_of(error), error)
        return await saga.complete()

    async def recover(
        self,
        invokers: Mapping[str, AsyncOperationInvoker],
        *,
        saga_ids: Collection[str] | None = None,
        stale_after: float | None = None,
        retry_needs_attention: bool = False,
    ) -> list[SagaOutcome]:
        outcomes = []
        for machine in self._claimable(saga_ids, stale_after, retry_needs_attention):
            saga = AsyncSaga(self.log, self.clock, machine, dict(invokers))
            outcomes.append(saga._settled(await saga.perform(machine.recover(RECOVERY_CAUSE))))
        return outcomes


class AsyncSaga(_SagaBase[AsyncOperationInvoker]):
    """One running saga (async); see :class:`Saga`."""

    async def step(
        self,
        invoker: AsyncOperationInvoker,
        operation: str | OperationRef,
        arguments: Arguments | None = None,
        *,
        policy: Any = None,
        retry: RetrySchedule | None = None,
        final: bool = False,
    ) -> StepResult:
        return await self.perform(
            self._step_program(invoker, operation, arguments, policy, retry, final)
        )

    async def complete(self) -> Completed:
        return self._settled(await self.perform(self.machine.complete()))

    async def abort(
        self, cause: str, error: BaseException | None = None
    ) -> Compensated | NeedsAttention:
        return self._settled(await self.perform(self.machine.abort(cause, error)))

    async def perform(self, program: Program[T]) -> T:
        try:
            effect = next(program)
            while True:
                effect = program.send(await self._do(effect))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _do(self, effect: Effect) -> Any:
        if isinstance(effect, Persist):
            self.log.write(effect.saga, effect.step)
            return None
        if isinstance(effect, Invoke):
            invoker = self._invoker(effect.service)
            try:
                return await invoker.invoke(
                    effect.operation,
                    effect.arguments,
                    idempotency_key=effect.idempotency_key,
                    policy=effect.policy,
                )
            except Exception as error:  # noqa: BLE001 - the machine classifies it
                return error
        if isinstance(effect, Sleep):
            await self.clock.asleep(effect.seconds)
            return None
        return await self._parallel(effect)

    async def _parallel(self, effect: Parallel) -> list[Any]:
        import anyio

        results: list[Any] = [None] * len(effect.programs)

        async def run(index: int, program: Program[Any]) -> None:
            results[index] = await self.perform(program)

        async with anyio.create_task_group() as group:
            for index, program in enumerate(effect.programs):
                group.start_soon(run, index, program)
        return results


class _AsyncBegin:
    """The async context manager behind :meth:`AsyncSagaRunner.saga`."""

    def __init__(self, runner: AsyncSagaRunner, name: str, begin: dict[str, Any]) -> None:
        self._runner = runner
        self._name = name
        self._begin = begin
        self._saga: AsyncSaga | None = None

    async def __aenter__(self) -> AsyncSaga:
        self._saga = await self._runner.begin(self._name, **self._begin)
        return self._saga

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._saga is not None
        if error is None:
            await self._saga.complete()
        elif _rolls_back(error):
            _raise_for(await self._saga.abort(_cause_of(error), error), error)
