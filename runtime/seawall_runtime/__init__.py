"""seawall-runtime: the resilience core that every seawall-generated client runs on.

Everything public is importable from here; see docs/runtime-api.md.
"""

from typing import TYPE_CHECKING

from seawall_runtime.breaker import BreakerState, CircuitBreaker
from seawall_runtime.budget import RetryBudget
from seawall_runtime.clock import Clock, FakeClock, SystemClock
from seawall_runtime.controller import CallController, Fail, Finish, Send, Sleep
from seawall_runtime.errors import (
    ApiError,
    BudgetExhausted,
    CircuitOpen,
    ConnectError,
    ConnectionReset,
    DeadlineExceeded,
    PoolExhausted,
    RequestTimeout,
    ResponseTooLarge,
    ResponseValidationError,
    RetriesExhausted,
    SeawallError,
    TransportError,
)
from seawall_runtime.hooks import (
    AttemptEnded,
    AttemptStarted,
    BreakerStateChanged,
    BudgetSpent,
    FallbackUsed,
    Hooks,
    RetryScheduled,
    redact_headers,
)
from seawall_runtime.operation import IDEMPOTENT_METHODS, Operation
from seawall_runtime.outcome import Attempt, Outcome, StopReason
from seawall_runtime.policies import (
    DEFAULT_RETRY_ON,
    MISSING,
    Backoff,
    BreakerPolicy,
    BudgetPolicy,
    FallbackOn,
    FallbackPolicy,
    Jitter,
    Policy,
    RetryOn,
    RetryPolicy,
    TimeoutPolicy,
)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from seawall_runtime.client import AsyncResilientClient, ResilientClient


def __getattr__(name: str) -> object:
    # The clients (and httpx with them) load on first use, so that importing a
    # part of the runtime that needs no HTTP (the saga expressions, which the
    # generator checks specs with) stays fast.
    if name in ("AsyncResilientClient", "ResilientClient"):
        from seawall_runtime import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEFAULT_RETRY_ON",
    "IDEMPOTENT_METHODS",
    "MISSING",
    "ApiError",
    "AsyncResilientClient",
    "Attempt",
    "AttemptEnded",
    "AttemptStarted",
    "Backoff",
    "BreakerPolicy",
    "BreakerState",
    "BreakerStateChanged",
    "BudgetExhausted",
    "BudgetPolicy",
    "BudgetSpent",
    "CallController",
    "CircuitBreaker",
    "CircuitOpen",
    "Clock",
    "ConnectError",
    "ConnectionReset",
    "DeadlineExceeded",
    "Fail",
    "FakeClock",
    "FallbackOn",
    "FallbackPolicy",
    "FallbackUsed",
    "Finish",
    "Hooks",
    "Jitter",
    "Operation",
    "Outcome",
    "Policy",
    "PoolExhausted",
    "RequestTimeout",
    "ResilientClient",
    "ResponseTooLarge",
    "ResponseValidationError",
    "RetriesExhausted",
    "RetryBudget",
    "RetryOn",
    "RetryPolicy",
    "RetryScheduled",
    "Send",
    "SeawallError",
    "Sleep",
    "StopReason",
    "SystemClock",
    "TimeoutPolicy",
    "TransportError",
    "redact_headers",
]
