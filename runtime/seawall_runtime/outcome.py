"""What a call produced: the attempt history and the final answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from seawall_runtime._value import Value

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


class Attempt(Value):
    """One attempt: its status or error, and how long it waited before retrying.

    ``error`` is a short description (exception type and message), never
    headers or body. ``retry_delay`` is the sleep that followed this attempt,
    ``None`` when no retry followed. Immutable; equal by value.
    """

    __slots__ = ("_number", "_status", "_error", "_duration", "_retry_delay")
    _names = ("number", "status", "error", "duration", "retry_delay")

    def __init__(
        self,
        number: int,
        status: int | None,
        error: str | None,
        duration: float,
        retry_delay: float | None = None,
    ) -> None:
        self._number = number
        self._status = status
        self._error = error
        self._duration = duration
        self._retry_delay = retry_delay

    @property
    def number(self) -> int:
        """1 for the first attempt."""
        return self._number

    @property
    def status(self) -> int | None:
        """The response's status; ``None`` when the attempt failed without one."""
        return self._status

    @property
    def error(self) -> str | None:
        """What went wrong, when the attempt got no response."""
        return self._error

    @property
    def duration(self) -> float:
        """Seconds the attempt took, its body (or its failure) included."""
        return self._duration

    @property
    def retry_delay(self) -> float | None:
        """Seconds slept before the next attempt; ``None`` when none followed."""
        return self._retry_delay

    def _values(self) -> tuple[Any, ...]:
        return (self._number, self._status, self._error, self._duration, self._retry_delay)


class Outcome(Value):
    """The answer to one logical call: a response, or a fallback's value.

    Immutable; equal by value.
    """

    __slots__ = (
        "_response",
        "_fallback_value",
        "_from_fallback",
        "_idempotency_key",
        "_attempts",
        "_stop_reason",
    )
    _names = (
        "response",
        "fallback_value",
        "from_fallback",
        "idempotency_key",
        "attempts",
        "stop_reason",
    )

    def __init__(
        self,
        response: httpx.Response | None,
        fallback_value: object,
        from_fallback: bool,
        idempotency_key: str | None,
        attempts: tuple[Attempt, ...],
        stop_reason: StopReason = "answered",
    ) -> None:
        self._response = response
        self._fallback_value = fallback_value
        self._from_fallback = from_fallback
        self._idempotency_key = idempotency_key
        self._attempts = attempts
        self._stop_reason: StopReason = stop_reason

    @property
    def response(self) -> httpx.Response | None:
        """The final response; ``None`` when the answer came from a fallback."""
        return self._response

    @property
    def fallback_value(self) -> object:
        """The fallback's answer (``None`` unless ``from_fallback``)."""
        return self._fallback_value

    @property
    def from_fallback(self) -> bool:
        """Whether the fallback answered instead of the service."""
        return self._from_fallback

    @property
    def idempotency_key(self) -> str | None:
        """The key sent with every attempt, if the call had one."""
        return self._idempotency_key

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """Every attempt made, in order."""
        return self._attempts

    @property
    def stop_reason(self) -> StopReason:
        """Why the retry loop stopped."""
        return self._stop_reason

    @property
    def status(self) -> int | None:
        """The final response's status, ``None`` for a fallback answer."""
        return self._response.status_code if self._response is not None else None

    def _values(self) -> tuple[Any, ...]:
        return (
            self._response,
            self._fallback_value,
            self._from_fallback,
            self._idempotency_key,
            self._attempts,
            self._stop_reason,
        )
