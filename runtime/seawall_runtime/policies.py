"""Resilience policies: plain, immutable, validated configuration objects.

Every policy checks its fields at construction, so a bad value (a negative
timeout, ``attempts=0``) fails where it is written, with a ``ValueError`` that
names the field, instead of misbehaving at call time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final, Literal, Union

if TYPE_CHECKING:
    import httpx

Jitter = Literal["full", "equal", "decorrelated", "none"]
JITTERS: Final = frozenset({"full", "equal", "decorrelated", "none"})

# A retry condition: a failure kind or a status (exact, or a class like "5XX").
RetryOn = Union[str, int]
RETRY_FAILURE_KINDS: Final = frozenset({"connection-error", "timeout", "reset"})
DEFAULT_RETRY_ON: Final[frozenset[RetryOn]] = frozenset(
    {"connection-error", "timeout", "reset", 408, 429, 500, 502, 503, 504}
)
MAX_ATTEMPTS: Final = 10

# A fallback trigger: why the call failed, or a final status (exact or class).
FallbackOn = Union[str, int]
FALLBACK_REASONS: Final = frozenset(
    {"circuit-open", "exhausted", "timeout", "deadline", "budget", "connection-error"}
)
STATUS_CLASSES: Final = frozenset({"1XX", "2XX", "3XX", "4XX", "5XX"})


class _Missing:
    """Marks a field left unset (``None`` is a valid fallback value)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def _fail(owner: str, name: str, problem: str, value: object) -> ValueError:
    return ValueError(f"{owner}.{name} {problem} (got {value!r})")


def _positive(owner: str, name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(owner, name, "must be a number of seconds", value)
    if not (value > 0 and math.isfinite(value)):
        raise _fail(owner, name, "must be a positive, finite number of seconds", value)


def _integer(owner: str, name: str, value: int, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(owner, name, "must be an integer", value)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _fail(owner, name, f"must be {bound}", value)


def _ratio(owner: str, name: str, value: float, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(owner, name, "must be a number", value)
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1):
        bound = "between 0 and 1" if allow_zero else "greater than 0 and at most 1"
        raise _fail(owner, name, f"must be {bound}", value)


def _conditions(
    owner: str, name: str, values: Iterable[str | int], kinds: frozenset[str]
) -> frozenset[str | int]:
    if isinstance(values, (str, int)):
        raise _fail(owner, name, "must be a set of conditions, not a single one", values)
    result = frozenset(values)
    for value in result:
        if isinstance(value, bool):
            raise _fail(owner, name, "has a boolean where a status or kind belongs", value)
        if isinstance(value, int):
            if not 100 <= value <= 599:
                raise _fail(owner, name, "has a status outside 100..599", value)
        elif value not in kinds and value not in STATUS_CLASSES:
            known = ", ".join(sorted(kinds | STATUS_CLASSES))
            raise _fail(owner, name, f"has an unknown condition; known: {known}", value)
    return result


# Status class names by hundreds digit, looked up rather than formatted per response.
_CLASS_OF_HUNDREDS: Final = {int(name[0]): name for name in STATUS_CLASSES}


def status_matches(status: int, conditions: frozenset[str | int]) -> bool:
    """Whether ``status`` is listed exactly or by its class (``"5XX"``)."""
    return status in conditions or _CLASS_OF_HUNDREDS.get(status // 100) in conditions


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: exponential, capped, with jitter.

    The n-th retry (n = 0, 1, …) has the ceiling ``min(max, initial * multiplier**n)``.
    ``full`` jitter draws uniformly in [0, ceiling] (AWS "full jitter", the
    default); ``equal`` in [ceiling/2, ceiling]; ``decorrelated`` in
    [initial, min(max, 3 × previous delay)]; ``none`` is the ceiling itself.
    """

    initial: float = 0.1
    multiplier: float = 2.0
    max: float = 5.0
    jitter: Jitter = "full"

    def __post_init__(self) -> None:
        _positive("Backoff", "initial", self.initial)
        _positive("Backoff", "max", self.max)
        if isinstance(self.multiplier, bool) or not isinstance(self.multiplier, (int, float)):
            raise _fail("Backoff", "multiplier", "must be a number", self.multiplier)
        if not (self.multiplier >= 1 and math.isfinite(self.multiplier)):
            raise _fail("Backoff", "multiplier", "must be a finite number >= 1", self.multiplier)
        if self.max < self.initial:
            raise _fail("Backoff", "max", f"must be >= initial ({self.initial})", self.max)
        if self.jitter not in JITTERS:
            raise _fail("Backoff", "jitter", f"must be one of {sorted(JITTERS)}", self.jitter)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and on what to try again. ``attempts`` counts the first one too.

    ``retry_after``: wait at least as long as a response's Retry-After asks.
    ``max_retry_after``: the longest such wait; a response asking for more
    ends the retries at once (stop reason ``"retry-after"``) and is returned
    with its header, so the caller can decide rather than sit blocked.
    ``None`` waits as long as asked (up to a day).
    """

    attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    on: frozenset[RetryOn] = DEFAULT_RETRY_ON
    retry_after: bool = True
    max_retry_after: float | None = 60.0

    def __post_init__(self) -> None:
        _integer("RetryPolicy", "attempts", self.attempts, 1, MAX_ATTEMPTS)
        _positive("RetryPolicy", "max_retry_after", self.max_retry_after)
        if not isinstance(self.backoff, Backoff):
            raise _fail("RetryPolicy", "backoff", "must be a Backoff", self.backoff)
        on = _conditions("RetryPolicy", "on", self.on, RETRY_FAILURE_KINDS)
        object.__setattr__(self, "on", on)


@dataclass(frozen=True, slots=True)
class TimeoutPolicy:
    """Seconds allowed: to connect, for one attempt, and for the whole call.

    ``total`` covers every attempt and every sleep between them; each attempt's
    timeout is clamped to what remains of it. ``None`` leaves that limit to the
    HTTP client (httpx: 5 s per connect, read, write and pool wait unless its
    client says otherwise); ``total=None`` sets no overall limit.
    """

    connect: float | None = None
    attempt: float | None = None
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "attempt", "total"):
            _positive("TimeoutPolicy", name, getattr(self, name))
        if self.attempt is not None and self.total is not None and self.attempt > self.total:
            raise _fail(
                "TimeoutPolicy", "attempt", f"must not exceed total ({self.total})", self.attempt
            )


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Circuit breaker: trips when the failure ratio over ``window`` seconds
    reaches ``failure_ratio`` (after at least ``minimum_calls`` calls), stays
    open ``open_for`` seconds, then lets ``half_open_probes`` calls through."""

    failure_ratio: float = 0.5
    minimum_calls: int = 20
    window: float = 30.0
    open_for: float = 15.0
    half_open_probes: int = 1
    per_operation: bool = False

    def __post_init__(self) -> None:
        _ratio("BreakerPolicy", "failure_ratio", self.failure_ratio, allow_zero=False)
        _integer("BreakerPolicy", "minimum_calls", self.minimum_calls, 1)
        _positive("BreakerPolicy", "window", self.window)
        _positive("BreakerPolicy", "open_for", self.open_for)
        _integer("BreakerPolicy", "half_open_probes", self.half_open_probes, 1)


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """Retry budget: over ``window`` seconds, retries may not exceed
    ``floor + ratio × requests`` (the floor lets a quiet client retry)."""

    ratio: float = 0.2
    floor: int = 10
    window: float = 10.0

    def __post_init__(self) -> None:
        _ratio("BudgetPolicy", "ratio", self.ratio, allow_zero=True)
        _integer("BudgetPolicy", "floor", self.floor, 0)
        _positive("BudgetPolicy", "window", self.window)


FallbackFactory = Callable[[Union[BaseException, "httpx.Response"]], object]


@dataclass(frozen=True, slots=True)
class FallbackPolicy:
    """An answer for when the call fails for one of the reasons in ``on``.

    Give exactly one of ``value`` (returned as is) or ``factory`` (called with
    the error, or with the final response when a listed status came back).
    """

    on: frozenset[FallbackOn]
    value: object = MISSING
    factory: FallbackFactory | None = None

    def __post_init__(self) -> None:
        on = _conditions("FallbackPolicy", "on", self.on, FALLBACK_REASONS)
        if not on:
            raise _fail("FallbackPolicy", "on", "must name at least one condition", self.on)
        object.__setattr__(self, "on", on)
        if (self.value is MISSING) == (self.factory is None):
            raise ValueError("FallbackPolicy needs exactly one of value= or factory=")
        if self.factory is not None and not callable(self.factory):
            raise _fail("FallbackPolicy", "factory", "must be callable", self.factory)

    def answer(self, cause: BaseException | httpx.Response) -> object:
        """The fallback's value for this failure."""
        return self.factory(cause) if self.factory is not None else self.value


@dataclass(frozen=True, slots=True)
class Policy:
    """One client's, operation's or call's effective policy."""

    timeout: TimeoutPolicy = field(default_factory=TimeoutPolicy)
    retry: RetryPolicy | None = field(default_factory=RetryPolicy)  # None: one attempt
    fallback: FallbackPolicy | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.timeout, TimeoutPolicy):
            raise _fail("Policy", "timeout", "must be a TimeoutPolicy", self.timeout)
        if self.retry is not None and not isinstance(self.retry, RetryPolicy):
            raise _fail("Policy", "retry", "must be a RetryPolicy or None", self.retry)
        if self.fallback is not None and not isinstance(self.fallback, FallbackPolicy):
            raise _fail("Policy", "fallback", "must be a FallbackPolicy or None", self.fallback)

    def merged(
        self,
        *,
        timeout: TimeoutPolicy | _Missing = MISSING,
        retry: RetryPolicy | None | _Missing = MISSING,
        fallback: FallbackPolicy | None | _Missing = MISSING,
    ) -> Policy:
        """A copy with the given parts replaced (for per-call overrides)."""
        changes: dict[str, object] = {}
        if not isinstance(timeout, _Missing):
            changes["timeout"] = timeout
        if not isinstance(retry, _Missing):
            changes["retry"] = retry
        if not isinstance(fallback, _Missing):
            changes["fallback"] = fallback
        return replace(self, **changes)  # type: ignore[arg-type]
