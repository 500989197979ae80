"""The runtime's exceptions: one small hierarchy under :class:`SeawallError`.

Messages name the operation (method and path, never the query string),
what happened, and the attempt count. They never contain headers, bodies or
credentials. Every error carries the idempotency key used, so a caller can
persist it and retry the same logical call later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seawall_runtime.outcome import Attempt, StopReason


class SeawallError(Exception):
    """Base of every error the runtime raises.

    ``blames_host``: whether the circuit breaker counts this failure against
    the host (not for the client's own limits: a full pool, a body too big).
    """

    blames_host: bool = True

    def __init__(
        self,
        message: str,
        *,
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.idempotency_key = idempotency_key

    def __str__(self) -> str:
        return self.message


class TransportError(SeawallError):
    """The connection failed. ``sent`` says whether the request may have left."""

    sent: bool = True


class ConnectError(TransportError):
    """The request was never sent: refused, DNS failure, connect timeout."""

    sent = False


class PoolExhausted(ConnectError):
    """No connection of the client's own pool came free in time: nothing was
    sent, and the host is not to blame (the breaker does not count it)."""

    blames_host = False


class ConnectionReset(TransportError):
    """The connection broke after the request may have been sent."""


class RequestTimeout(SeawallError):
    """One attempt took longer than its timeout."""


class DeadlineExceeded(SeawallError):
    """The call's total deadline passed (or would pass before the next attempt).

    ``retry_after`` is the server's Retry-After hint in seconds when that is
    what pushed the next attempt past the deadline.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, idempotency_key=idempotency_key)
        self.retry_after = retry_after


class CircuitOpen(SeawallError):
    """The circuit breaker for this host (or operation) refuses calls for now."""

    def __init__(
        self,
        message: str,
        *,
        retry_in: float,
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, idempotency_key=idempotency_key)
        self.retry_in = retry_in


class _EndedBy(SeawallError):
    """A failure that stopped retrying; ``last_error`` is the final attempt's."""

    def __init__(
        self,
        message: str,
        *,
        last_error: SeawallError,
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, idempotency_key=idempotency_key)
        self.last_error = last_error


class RetriesExhausted(_EndedBy):
    """Every allowed attempt failed with an error; ``last_error`` is the final one."""


class BudgetExhausted(_EndedBy):
    """A retry was due but the client's retry budget is spent; ``last_error`` failed."""


class ResponseTooLarge(SeawallError):
    """The response body grew past the client's ``max_response_bytes``."""

    blames_host = False


class ApiError(SeawallError):
    """The server answered with an error status.

    Generated clients subclass this for each documented error response;
    ``body`` is the parsed body (a model, JSON data or ``None``) and
    ``content`` the raw bytes. ``stop_reason`` says why the call's retries
    stopped (``"budget"`` when the retry budget was spent, ``"attempts"``
    when every attempt was used…), ``None`` when that is not known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: object = None,
        content: bytes = b"",
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
        stop_reason: StopReason | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, idempotency_key=idempotency_key)
        self.status = status
        self.headers: Mapping[str, str] = dict(headers or {})
        self.body = body
        self.content = content
        self.stop_reason = stop_reason


class ResponseValidationError(SeawallError):
    """A response body did not match the schema the API documents for it."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        content: bytes = b"",
        attempts: tuple[Attempt, ...] = (),
        idempotency_key: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, idempotency_key=idempotency_key)
        self.status = status
        self.content = content
