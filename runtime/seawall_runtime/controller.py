"""The retry loop as a sans-I/O state machine, one per logical call.

A driver asks the controller what to do next and feeds it what happened::

    action = controller.start()
    while True:
        Send  → make one attempt, then on_response(response) or on_error(error)
        Sleep → sleep, then resume()
        Finish(outcome) → return it;  Fail(error) → raise it

Policies apply in this order, outermost first: total deadline → retry (gated
by the retry budget) → circuit breaker → attempt timeout. A fallback, when
configured, turns the final failure into a value. The controller does no I/O
and reads time only from its injected clock, so it is tested exactly.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Union

from seawall_runtime.backoff import next_delay
from seawall_runtime.breaker import CircuitBreaker, Permit, counts_as_failure
from seawall_runtime.budget import RetryBudget
from seawall_runtime.clock import Clock
from seawall_runtime.errors import (
    BudgetExhausted,
    CircuitOpen,
    ConnectError,
    DeadlineExceeded,
    RequestTimeout,
    RetriesExhausted,
    SeawallError,
    TransportError,
)
from seawall_runtime.hooks import (
    AttemptEnded,
    AttemptStarted,
    BudgetSpent,
    FallbackUsed,
    Hooks,
    RetryScheduled,
    call_hook,
    logger,
)
from seawall_runtime.outcome import Attempt, Outcome, StopReason
from seawall_runtime.policies import Policy, status_matches
from seawall_runtime.retry_after import parse_retry_after

if TYPE_CHECKING:
    import httpx


# The actions are messages from the controller to its driver, used once: not
# frozen, as freezing would double the cost of the two made on every call.
@dataclass(slots=True)
class Send:
    """Make attempt number ``attempt``; ``timeout`` bounds it (``None``: the
    HTTP client's own timeouts), ``connect_timeout`` bounds connecting."""

    attempt: int
    timeout: float | None
    connect_timeout: float | None


@dataclass(slots=True)
class Sleep:
    """Wait ``seconds`` before the next attempt, then call ``resume()``."""

    seconds: float


@dataclass(slots=True)
class Finish:
    """The call is over with an answer."""

    outcome: Outcome


@dataclass(slots=True)
class Fail:
    """The call is over without an answer: raise ``error``."""

    error: SeawallError


Action = Union[Send, Sleep, Finish, Fail]
_NO_HOOKS = Hooks()
_Phase = Literal["new", "sending", "sleeping", "done"]


class CallController:
    """Decides, for one logical call, whether to send, wait, answer or fail."""

    # One controller per call: slots keep construction and attribute access cheap.
    __slots__ = (
        "label",
        "idempotent",
        "policy",
        "idempotency_key",
        "_clock",
        "_rng",
        "_hooks",
        "_breaker",
        "_budget",
        "_budget_key",
        "logs_debug",
        "_phase",
        "_attempts",
        "_deadline",
        "_attempt_started",
        "_clamped",
        "_permit",
        "_last_delay",
        "_max_attempts",
    )

    def __init__(
        self,
        label: str,
        idempotent: bool,
        policy: Policy,
        clock: Clock,
        rng: random.Random,
        hooks: Hooks | None = None,
        breaker: CircuitBreaker | None = None,
        budget: RetryBudget | None = None,
        budget_key: str = "",
        idempotency_key: str | None = None,
    ) -> None:
        self.label = label
        self.idempotent = idempotent
        self.policy = policy
        self.idempotency_key = idempotency_key
        self._clock = clock
        self._rng = rng
        self._hooks = hooks or _NO_HOOKS
        self._breaker = breaker
        self._budget = budget
        self._budget_key = budget_key
        # Whether this call logs at DEBUG, asked once per call: formatting
        # records nobody reads is most of what logging would cost.
        self.logs_debug = logger.isEnabledFor(logging.DEBUG)
        self._phase: _Phase = "new"
        # A tuple, grown by one per attempt: ``attempts`` hands it out uncopied.
        self._attempts: tuple[Attempt, ...] = ()
        self._deadline: float | None = None
        self._attempt_started = 0.0
        self._clamped = False  # the current attempt's timeout is what remains of the total
        self._permit: Permit | None = None
        self._last_delay: float | None = None
        retry = policy.retry
        self._max_attempts = retry.attempts if retry is not None else 1

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """The attempts made so far."""
        return self._attempts

    # -- the driver's side ------------------------------------------------

    def start(self) -> Action:
        """Begin the call: the first action."""
        if self._phase != "new":
            raise self._out_of_order("new")
        now = self._clock.now()
        total = self.policy.timeout.total
        if total is not None:
            self._deadline = now + total
        if self._budget is not None:
            self._budget.record_request()
        return self._next_attempt(now)

    def on_response(self, response: httpx.Response) -> Action:
        """The attempt got a response (body already read)."""
        if self._phase != "sending":
            raise self._out_of_order("sending")
        status = response.status_code
        self._settle_breaker(counts_as_failure(status))
        self._end_attempt(status, None)
        retry = self.policy.retry
        if retry is None or not status_matches(status, retry.on):
            return self._answer(response, "answered")
        if not self.idempotent:
            return self._answer(response, "not-retryable")
        hint = None
        if retry.retry_after:
            hint = parse_retry_after(response.headers.get("retry-after"), self._clock.wall())
        return self._retry_or_stop(response, f"status {status}", hint)

    def on_error(self, error: SeawallError) -> Action:
        """The attempt failed with ``error`` (already translated from httpx)."""
        if self._phase != "sending":
            raise self._out_of_order("sending")
        if error.blames_host:
            self._settle_breaker(True)
        else:
            self._release_breaker()  # the client's own limits: too big, no free connection
        if isinstance(error, RequestTimeout) and self._clamped:
            timed_out = error
            error = DeadlineExceeded(
                f"{self.label}: total deadline of {self.policy.timeout.total}s exceeded "
                f"during attempt {len(self._attempts) + 1}"
            )
            error.__cause__ = timed_out
        self._end_attempt(None, f"{type(error).__name__}: {error.message}")
        if isinstance(error, DeadlineExceeded):
            return self._fail(error, "deadline")
        kind = _failure_kind(error)
        retry = self.policy.retry
        may_repeat = self.idempotent or isinstance(error, ConnectError)
        if retry is None or kind is None or kind not in retry.on or not may_repeat:
            return self._fail(error, "not-retryable")
        return self._retry_or_stop(error, kind, None)

    def resume(self) -> Action:
        """The sleep is over."""
        if self._phase != "sleeping":
            raise self._out_of_order("sleeping")
        return self._next_attempt(self._clock.now())

    def abandon(self, exc: BaseException | None = None) -> None:
        """The attempt ended by an exception the runtime does not handle
        (cancellation, a bug): free the breaker permit, end the attempt (its
        hooks and spans see it end) and stop."""
        self._release_breaker()
        if self._phase == "sending":
            self._end_attempt(None, type(exc).__name__ if exc is not None else "abandoned")
        self._phase = "done"

    # -- decisions ---------------------------------------------------------

    def _next_attempt(self, now: float) -> Action:
        """Send the next attempt, unless the deadline or the breaker forbids it;
        ``now`` is the clock read by the caller (one read serves both)."""
        timeouts = self.policy.timeout
        timeout = timeouts.attempt
        self._clamped = False
        if self._deadline is not None:
            remaining = self._deadline - now
            if remaining <= 0:
                return self._fail(
                    DeadlineExceeded(
                        f"{self.label}: total deadline of {timeouts.total}s exceeded "
                        f"after {len(self._attempts)} attempt(s)"
                    ),
                    "deadline",
                )
            if timeout is None or remaining <= timeout:
                timeout, self._clamped = remaining, True
        if self._breaker is not None:
            self._permit = self._breaker.acquire()
            if self._permit is None:
                return self._fail(self._circuit_open(self._breaker), "circuit-open")
        connect = timeouts.connect
        if timeout is not None and (connect is None or timeout < connect):
            connect = timeout
        number = len(self._attempts) + 1
        self._phase = "sending"
        self._attempt_started = now
        if self.logs_debug:
            logger.debug("%s: attempt %d (timeout %s)", self.label, number, timeout)
        if self._hooks.on_attempt_start is not None:
            call_hook(self._hooks.on_attempt_start, AttemptStarted(self.label, number, timeout))
        return Send(number, timeout, connect)

    def _circuit_open(self, breaker: CircuitBreaker) -> CircuitOpen:
        """The error for a call the breaker refused: open, or half-open with
        every probe slot taken (then ``retry_in`` is 0: the probe decides)."""
        retry_in = breaker.retry_in()
        where = breaker.key or "this host"
        if retry_in > 0:
            why = f"circuit open for {where}; calls fail fast for another {retry_in:.3g}s"
        else:
            why = f"circuit half-open for {where}; calls fail fast while a probe is in flight"
        return CircuitOpen(f"{self.label}: {why}", retry_in=retry_in)

    def _retry_or_stop(
        self, cause: httpx.Response | SeawallError, reason: str, hint: float | None
    ) -> Action:
        retry = self.policy.retry
        assert retry is not None  # callers checked
        if len(self._attempts) >= self._max_attempts:
            return self._stop(cause, "attempts")
        delay = next_delay(retry.backoff, len(self._attempts) - 1, self._last_delay, self._rng)
        self._last_delay = delay
        if hint is not None:
            delay = max(delay, hint)
        if self._deadline is not None and self._clock.now() + delay >= self._deadline:
            why = (
                f"Retry-After of {hint:.3g}s"
                if hint is not None and hint >= delay
                else (f"the next retry in {delay:.3g}s")
            )
            error = DeadlineExceeded(
                f"{self.label}: {why} would pass the total deadline of "
                f"{self.policy.timeout.total}s (after {len(self._attempts)} attempt(s), "
                f"last: {reason})",
                retry_after=hint,
            )
            return self._fail(error, "deadline")
        if hint is not None and retry.max_retry_after is not None and hint > retry.max_retry_after:
            if self.logs_debug:
                logger.debug(
                    "%s: Retry-After of %.3gs is past the policy's limit",
                    self.label,
                    hint,
                )
            return self._stop(cause, "retry-after")
        if self._budget is not None and not self._budget.try_retry():
            call_hook(self._hooks.on_budget_exhausted, BudgetSpent(self.label, self._budget_key))
            logger.debug("%s: retry budget for %s spent", self.label, self._budget_key)
            return self._stop(cause, "budget")
        last = self._attempts[-1]
        self._attempts = self._attempts[:-1] + (
            Attempt(last.number, last.status, last.error, last.duration, delay),
        )
        if self.logs_debug:
            logger.debug("%s: retry in %.3fs after %s", self.label, delay, reason)
        call_hook(
            self._hooks.on_retry,
            RetryScheduled(self.label, len(self._attempts), delay, reason),
        )
        self._phase = "sleeping"
        return Sleep(delay)

    def _stop(self, cause: httpx.Response | SeawallError, reason: StopReason) -> Action:
        """No more attempts: answer with the last response, or fail."""
        if not isinstance(cause, SeawallError):
            return self._answer(cause, reason)
        count = len(self._attempts)
        if reason == "budget":
            error: SeawallError = BudgetExhausted(
                f"{self.label}: retry budget spent after {count} attempt(s); "
                f"last: {cause.message}",
                last_error=cause,
            )
        elif count > 1:
            error = RetriesExhausted(
                f"{self.label}: all {count} attempts failed; last: {cause.message}",
                last_error=cause,
            )
        else:
            error = cause
        if error is not cause:
            error.__cause__ = cause
        return self._fail(error, reason)

    def _answer(self, response: httpx.Response, reason: StopReason) -> Action:
        fallback = self.policy.fallback
        if fallback is not None:
            trigger = _response_trigger(response.status_code, reason, fallback.on)
            if trigger is not None:
                return self._use_fallback(response, trigger, reason)
        self._phase = "done"
        return Finish(Outcome(response, None, False, self.idempotency_key, self._attempts, reason))

    def _fail(self, error: SeawallError, reason: StopReason) -> Action:
        error.attempts = self._attempts
        error.idempotency_key = self.idempotency_key
        fallback = self.policy.fallback
        if fallback is not None:
            trigger = _error_trigger(error, reason, fallback.on)
            if trigger is not None:
                return self._use_fallback(error, trigger, reason)
        self._phase = "done"
        return Fail(error)

    def _use_fallback(
        self, cause: httpx.Response | SeawallError, trigger: str, reason: StopReason
    ) -> Action:
        """Answer with the fallback; the outcome keeps why the call stopped."""
        assert self.policy.fallback is not None
        self._phase = "done"
        call_hook(self._hooks.on_fallback, FallbackUsed(self.label, trigger))
        logger.debug("%s: answered by the fallback (%s)", self.label, trigger)
        value = self.policy.fallback.answer(cause)
        return Finish(Outcome(None, value, True, self.idempotency_key, self._attempts, reason))

    # -- bookkeeping -------------------------------------------------------

    def _out_of_order(self, expected: _Phase) -> RuntimeError:
        # Callers test the phase inline: this runs only on misuse.
        return RuntimeError(f"CallController used out of order: {self._phase}, not {expected}")

    def _end_attempt(self, status: int | None, error: str | None) -> None:
        duration = self._clock.now() - self._attempt_started
        number = len(self._attempts) + 1
        self._attempts += (Attempt(number, status, error, duration),)
        if self.logs_debug:
            logger.debug("%s: attempt %d ended: %s", self.label, number, status or error)
        if self._hooks.on_attempt_end is not None:
            call_hook(
                self._hooks.on_attempt_end,
                AttemptEnded(self.label, number, status, error, duration),
            )

    def _settle_breaker(self, failed: bool) -> None:
        if self._breaker is not None and self._permit is not None:
            self._breaker.record(self._permit, failed)
            self._permit = None

    def _release_breaker(self) -> None:
        if self._breaker is not None and self._permit is not None:
            self._breaker.release(self._permit)
            self._permit = None


def _failure_kind(error: SeawallError) -> str | None:
    """The retry condition an attempt error falls under."""
    if isinstance(error, ConnectError):
        return "connection-error"
    if isinstance(error, RequestTimeout):
        return "timeout"
    if isinstance(error, TransportError):
        return "reset"
    return None


def _response_trigger(status: int, reason: StopReason, on: frozenset[str | int]) -> str | None:
    if status_matches(status, on):
        return str(status)
    # A Retry-After past the policy's limit ends the retries too.
    if reason in ("attempts", "retry-after") and "exhausted" in on:
        return "exhausted"
    if reason == "budget" and "budget" in on:
        return "budget"
    return None


def _error_trigger(error: SeawallError, reason: StopReason, on: frozenset[str | int]) -> str | None:
    root = getattr(error, "last_error", error)
    checks: tuple[tuple[str, bool], ...] = (
        ("circuit-open", isinstance(error, CircuitOpen)),
        ("deadline", isinstance(error, DeadlineExceeded)),
        ("budget", reason == "budget"),
        ("exhausted", reason == "attempts"),
        ("timeout", isinstance(root, RequestTimeout)),
        ("connection-error", isinstance(root, TransportError)),
    )
    for trigger, applies in checks:
        if applies and trigger in on:
            return trigger
    return None
