"""Observability: hook callbacks, events, and logging with secrets redacted."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

logger: Final = logging.getLogger("seawall_runtime")

REDACTED: Final = "[redacted]"
# Header names that always carry credentials; names containing a marker
# below (x-api-key, x-auth-token, ocp-apim-subscription-key, x-signature,
# x-session-id, …) are treated as secret too. Hand-made names vary too much to
# list, so the markers err on the side of hiding.
SENSITIVE_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie"}
)
_SENSITIVE_MARKERS: Final = (
    "key",
    "token",
    "secret",
    "auth",
    "signature",
    "session",
    "password",
    "credential",
)


def is_sensitive_header(name: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a header's value must never be logged or shown."""
    lower = name.lower()
    if lower in SENSITIVE_HEADERS or lower in extra:
        return True
    if "idempotency" in lower:
        # Idempotency-Key, X-Idempotency-Key…: not secrets, and callers need
        # them in debug logs to trace retries; "key" would hide them. Listing
        # one in ``extra`` still hides it.
        return False
    return any(marker in lower for marker in _SENSITIVE_MARKERS)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    extra: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs, the secret values replaced by ``[redacted]``."""
    extra_names = frozenset(name.lower() for name in extra)
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (name, REDACTED if is_sensitive_header(name, extra_names) else value)
        for name, value in pairs
    ]


@dataclass(frozen=True, slots=True)
class AttemptStarted:
    operation: str
    attempt: int
    timeout: float | None


@dataclass(frozen=True, slots=True)
class AttemptEnded:
    operation: str
    attempt: int
    status: int | None
    error: str | None
    duration: float


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    operation: str
    attempt: int  # the attempt that failed
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerStateChanged:
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class BudgetSpent:
    operation: str
    key: str


@dataclass(frozen=True, slots=True)
class FallbackUsed:
    operation: str
    reason: str


@dataclass(frozen=True, slots=True)
class Hooks:
    """Callbacks for what happens inside a call; each is optional.

    They run on the calling thread (or task), so keep them quick. An exception
    in a hook is logged and otherwise ignored: observing must not break calls.
    """

    on_attempt_start: Callable[[AttemptStarted], None] | None = None
    on_attempt_end: Callable[[AttemptEnded], None] | None = None
    on_retry: Callable[[RetryScheduled], None] | None = None
    on_breaker_change: Callable[[BreakerStateChanged], None] | None = None
    on_budget_exhausted: Callable[[BudgetSpent], None] | None = None
    on_fallback: Callable[[FallbackUsed], None] | None = None


E = TypeVar("E")


def call_hook(hook: Callable[[E], None] | None, event: E) -> None:
    """Run one hook, logging (not raising) what it throws."""
    if hook is None:
        return
    try:
        hook(event)
    except Exception as exc:  # noqa: BLE001 - a broken hook must not break the call
        logger.warning("seawall hook %s failed: %s", type(event).__name__, type(exc).__name__)
