"""What a call produced: the attempt history and the final answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import httpx

# Why the retry loop stopped.
StopReason = Literal[
    "answered",  # a response that needs no retry
    "not-retryable",  # a failure that this request may not or should not repeat
    "attempts",  # every allowed attempt was used
    "budget",  # the client's retry budget was spent
    "deadline",  # the total deadline left no time for another attempt
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


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one logical call: a response, or a fallback's value."""

    response: httpx.Response | None  # None when the answer came from a fallback
    fallback_value: object
    from_fallback: bool
    idempotency_key: str | None
    attempts: tuple[Attempt, ...]
    stop_reason: StopReason = "answered"

    @property
    def status(self) -> int | None:
        """The final response's status, ``None`` for a fallback answer."""
        return self.response.status_code if self.response is not None else None
