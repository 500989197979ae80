"""What a call produced: the attempt history and the final answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from seawall_runtime._slots import slot_writers

if TYPE_CHECKING:
    import httpx

# Why the retry loop stopped.
StopReason = Literal[
    "answered",  # a response that needs no retry
    "not-retryable",  # a failure that this request may not or should not repeat
    "attempts",  # every allowed attempt was used
    "budget",  # the client's retry budget was spent
    "deadline",  # the total deadline left no time for another attempt
    "retry-after",  # the server asked for a longer wait than the policy's max_retry_after
    "circuit-open",  # the circuit breaker refused the call
]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt: its status or error, and how long it waited before retrying.

    ``error`` is a short description (exception type and message), never
    headers or body. ``retry_delay`` is the sleep that followed this attempt,
    ``None`` when no retry followed.
    """

    number: int
    status: int | None
    error: str | None
    duration: float
    retry_delay: float | None = None

    def __init__(
        self,
        number: int,
        status: int | None,
        error: str | None,
        duration: float,
        retry_delay: float | None = None,
    ) -> None:
        # Made on every attempt: see seawall_runtime._slots.
        _set_number(self, number)
        _set_status(self, status)
        _set_error(self, error)
        _set_duration(self, duration)
        _set_retry_delay(self, retry_delay)


_set_number, _set_status, _set_error, _set_duration, _set_retry_delay = slot_writers(Attempt)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one logical call: a response, or a fallback's value."""

    response: httpx.Response | None  # None when the answer came from a fallback
    fallback_value: object
    from_fallback: bool
    idempotency_key: str | None
    attempts: tuple[Attempt, ...]
    stop_reason: StopReason = "answered"

    def __init__(
        self,
        response: httpx.Response | None,
        fallback_value: object,
        from_fallback: bool,
        idempotency_key: str | None,
        attempts: tuple[Attempt, ...],
        stop_reason: StopReason = "answered",
    ) -> None:
        # Made on every call: see seawall_runtime._slots.
        _set_response(self, response)
        _set_fallback_value(self, fallback_value)
        _set_from_fallback(self, from_fallback)
        _set_idempotency_key(self, idempotency_key)
        _set_attempts(self, attempts)
        _set_stop_reason(self, stop_reason)

    @property
    def status(self) -> int | None:
        """The final response's status, ``None`` for a fallback answer."""
        return self.response.status_code if self.response is not None else None


(
    _set_response,
    _set_fallback_value,
    _set_from_fallback,
    _set_idempotency_key,
    _set_attempts,
    _set_stop_reason,
) = slot_writers(Outcome)
